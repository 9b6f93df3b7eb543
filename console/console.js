// The console's wiring: the editor, the token, the calls, and which part of the page shows what.
// body[data-state] says where the page is (starting, needs-token, loading, ready, nothing-new,
// problem), so people and tests can tell a finished answer from one still on its way.

import { callService, problemOf, useToken } from './api.js';
import { drawChart } from './chart.js';
import { createWorkerTable } from './table.js';
import { showTotals } from './totals.js';

const EXAMPLES_PATH = '/console/examples';
const byId = (id) => document.getElementById(id);

const editor = byId('body');
const endpoint = byId('endpoint');
const answerSection = byId('answer');
const tokenForm = byId('token-form');
const table = createWorkerTable({
  table: byId('workers'),
  filter: byId('filter'),
  pageStatus: byId('page-status'),
  previous: byId('page-previous'),
  next: byId('page-next'),
});
let examples = {};
let answersShown = 0;

/** Also counts the answers shown, so that a reader can wait for the next one even when the state stays the same. */
function setState(state) {
  document.body.dataset.state = state;
  if (state !== 'loading') document.body.dataset.answers = String(++answersShown);
}

function showProblem(problem) {
  byId('problem-title').textContent = problem.status === undefined ? problem.title : `${problem.status} ${problem.title}`;
  byId('problem-detail').textContent = problem.detail ?? '';
  // A validation problem lists `errors`; some list `violations`: each names a field and its rule.
  const fields = [...(problem.errors ?? []), ...(problem.violations ?? [])].map((field) => {
    const item = document.createElement('li');
    const path = document.createElement('code');
    path.textContent = field.path ?? field.field ?? '';
    item.append(path, ` ${field.message ?? ''}`);
    return item;
  });
  byId('problem-fields').replaceChildren(...fields);
  byId('problem').hidden = false;
  setState('problem');
}

function hideProblem() {
  byId('problem').hidden = true;
}

/** A delta carries its split under `contribution`; /contribution answers the split itself. */
function showAnswer(answer) {
  const split = answer.contribution ?? answer;
  const delta = answer.consumption !== undefined;
  showTotals(byId('totals'), {
    burned: delta ? answer.consumption.total_credits : split.job_credit_budget,
    burnedField: delta ? 'consumption.total_credits' : 'job_credit_budget',
    assignments: split.assignments,
    reservation: answer.reservation,
  });
  drawChart(byId('chart'), split.assignments, split.job_credit_budget);
  table.show(split.assignments);
  answerSection.hidden = false;
  setState('ready');
}

async function send() {
  setState('loading');
  hideProblem();
  // The editor's text goes as it is: if it is not valid JSON, the service's problem says where.
  const answer = await callService(endpoint.value, { method: 'POST', body: editor.value });
  if (answer.kind === 'json' && answer.status === 200) return showAnswer(answer.body);
  answerSection.hidden = true;
  if (answer.kind === 'empty') {
    byId('problem-title').textContent = 'Nothing new (204)';
    byId('problem-detail').textContent = 'The frontier has not moved past the accounted tokens: there is nothing to burn.';
    byId('problem-fields').replaceChildren();
    byId('problem').hidden = false;
    return setState('nothing-new');
  }
  showProblem(problemOf(answer));
}

/** The same request, answered as CSV, saved through a temporary link to a Blob. */
async function downloadCsv() {
  hideProblem();
  const answer = await callService(endpoint.value, { method: 'POST', body: editor.value, accept: 'text/csv' });
  if (answer.kind !== 'blob' || answer.status !== 200 || !answer.contentType.startsWith('text/csv')) return showProblem(problemOf(answer));
  const link = document.createElement('a');
  link.href = URL.createObjectURL(answer.blob);
  link.download = `${endpoint.value.slice(1)}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked on the next turn, once the browser has taken the download.
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}

/** Loads the editor's examples; with auth on and no token yet, asks for one instead. */
async function start() {
  const answer = await callService(EXAMPLES_PATH);
  if (answer.kind === 'problem' && answer.status === 401) {
    tokenForm.hidden = false;
    byId('token').focus();
    if (document.body.dataset.state !== 'starting') showProblem(answer.problem);
    else setState('needs-token');
    return;
  }
  if (answer.kind !== 'json') return showProblem(problemOf(answer));
  tokenForm.hidden = true;
  examples = answer.body;
  editor.value = JSON.stringify(examples[endpoint.value], null, 2);
  await send();
}

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  useToken(byId('token').value);
  hideProblem();
  start();
});

byId('request-form').addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});

byId('download-csv').addEventListener('click', () => downloadCsv());

// A new endpoint gets its example, unless the editor holds something the operator wrote.
let previousEndpoint = endpoint.value;
endpoint.addEventListener('change', () => {
  const untouched = editor.value === JSON.stringify(examples[previousEndpoint], null, 2);
  if (untouched && examples[endpoint.value] !== undefined) editor.value = JSON.stringify(examples[endpoint.value], null, 2);
  previousEndpoint = endpoint.value;
});

byId('file').addEventListener('change', async (event) => {
  const file = event.target.files?.[0];
  if (file !== undefined) editor.value = await file.text();
});

start();
