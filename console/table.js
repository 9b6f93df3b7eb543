// The workers' table: one row a worker, one column per field of the answer, in the answer's order
// and under its own names. Only one page of rows is in the DOM at a time, so 10000 workers cost
// no more to show than 50.

import { fractionDigitsOf, isDecimalString, unitsOf } from './decimal.js';

const PAGE_SIZE = 50;

/** How a column sorts: numbers and decimal strings by value (decimals exactly), anything else as text. */
function columnKind(rows, column) {
  if (rows.every((row) => typeof row[column] === 'number')) return 'number';
  if (rows.every((row) => isDecimalString(row[column]))) return 'decimal';
  return 'text';
}

/** One sort key per row, worked out once per answer rather than in every comparison. */
function sortKeys(rows, column, kind) {
  if (kind === 'decimal') {
    const scale = Math.max(...rows.map((row) => fractionDigitsOf(row[column])));
    return rows.map((row) => unitsOf(row[column], scale));
  }
  if (kind === 'number') return rows.map((row) => row[column]);
  return rows.map((row) => String(row[column]));
}

/** The field name, with a line-break opportunity after each underscore, so long names wrap at word ends. */
function breakableName(name) {
  return name.split('_').flatMap((word, index) => (index === 0 ? [word] : ['_', document.createElement('wbr'), word]));
}

export function createWorkerTable({ table, filter, pageStatus, previous, next }) {
  let rows = [];
  let columns = [];
  let kinds = {};
  const keys = new Map();
  let sort = { column: undefined, descending: false };
  let shown = [];
  let page = 0;

  function keysOf(column) {
    if (!keys.has(column)) keys.set(column, sortKeys(rows, column, kinds[column]));
    return keys.get(column);
  }

  /** The indexes of the rows that pass the filter, in the chosen order (input order breaks ties). */
  function arrange() {
    const needle = filter.value.trim().toLowerCase();
    shown = [];
    rows.forEach((row, index) => {
      if (needle === '' || String(row.worker_id).toLowerCase().includes(needle)) shown.push(index);
    });
    if (sort.column !== undefined) {
      const values = keysOf(sort.column);
      const sign = sort.descending ? -1 : 1;
      shown.sort((a, b) => (values[a] < values[b] ? -sign : values[a] > values[b] ? sign : a - b));
    }
    page = 0;
  }

  function renderHead() {
    const head = document.createElement('thead');
    const line = document.createElement('tr');
    for (const column of columns) {
      const cell = document.createElement('th');
      cell.scope = 'col';
      if (kinds[column] !== 'text') cell.className = 'number';
      cell.setAttribute('aria-sort', sort.column !== column ? 'none' : sort.descending ? 'descending' : 'ascending');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.column = column;
      button.append(...breakableName(column));
      cell.append(button);
      line.append(cell);
    }
    head.append(line);
    return head;
  }

  function renderBody() {
    const body = document.createElement('tbody');
    for (const index of shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
      const line = document.createElement('tr');
      for (const column of columns) {
        const cell = document.createElement('td');
        if (kinds[column] !== 'text') cell.className = 'number';
        cell.textContent = String(rows[index][column]);
        line.append(cell);
      }
      body.append(line);
    }
    return body;
  }

  function render() {
    table.replaceChildren(renderHead(), renderBody());
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    const first = shown.length === 0 ? 0 : page * PAGE_SIZE + 1;
    const last = Math.min(shown.length, (page + 1) * PAGE_SIZE);
    pageStatus.textContent = `Workers ${first}–${last} of ${shown.length} (of ${rows.length}); page ${page + 1} of ${pages}`;
    previous.disabled = page === 0;
    next.disabled = page + 1 >= pages;
  }

  table.addEventListener('click', (event) => {
    const column = event.target.closest('button[data-column]')?.dataset.column;
    if (column === undefined) return;
    sort = { column, descending: sort.column === column ? !sort.descending : false };
    arrange();
    render();
  });
  filter.addEventListener('input', () => {
    arrange();
    render();
  });
  previous.addEventListener('click', () => {
    page -= 1;
    render();
  });
  next.addEventListener('click', () => {
    page += 1;
    render();
  });

  return {
    /** Shows a new answer's workers, keeping the chosen sort column when the answer still has it. */
    show(workers) {
      rows = workers;
      columns = Object.keys(workers[0] ?? {});
      kinds = Object.fromEntries(columns.map((column) => [column, columnKind(workers, column)]));
      keys.clear();
      if (!columns.includes(sort.column)) sort = { column: undefined, descending: false };
      arrange();
      render();
    },
  };
}
