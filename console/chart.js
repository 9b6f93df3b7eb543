// The bar chart: for each worker, its share of the credits beside its share of the compute. The gap
// between the two bars is what speed and memory pressure did to its pay. With many workers the
// chart keeps the ones paid most and folds the rest into one "others" row, so it stays readable
// and its size does not grow with the job. That row shows the others' average worker: their sum
// would dwarf every other bar, while the average stays comparable to the workers above it.

import { fractionDigitsOf, unitsOf } from './decimal.js';

const SVG = 'http://www.w3.org/2000/svg';
const TOP_WORKERS = 15;
const WIDTH = 900;
const LABEL_WIDTH = 240;
const VALUE_WIDTH = 70;
const BAR_HEIGHT = 11;
const ROW_HEIGHT = 2 * BAR_HEIGHT + 10;
const LEGEND_HEIGHT = 26;

function element(name, attributes = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The rows to draw: the TOP_WORKERS workers paid most (ranked exactly, in credit units), then one
 * row for the others, their average worker. Shares are floats: they only set bar lengths, never money.
 */
function chartRows(assignments, budget) {
  const budgetValue = Number(budget);
  const creditShare = (credits) => (budgetValue > 0 ? Number(credits) / budgetValue : 0);
  const scale = Math.max(0, ...assignments.map((worker) => fractionDigitsOf(worker.credits)));
  const units = assignments.map((worker) => unitsOf(worker.credits, scale));
  const ranked = assignments.map((_, index) => index).sort((a, b) => (units[a] > units[b] ? -1 : units[a] < units[b] ? 1 : a - b));
  const top = ranked.slice(0, TOP_WORKERS).map((index) => ({
    label: assignments[index].worker_id,
    credit_share: creditShare(assignments[index].credits),
    compute_share: assignments[index].compute_share,
    detail: `${assignments[index].credits} credits`,
  }));
  const rest = ranked.slice(TOP_WORKERS);
  if (rest.length === 0) return top;
  let creditTotal = 0;
  let computeTotal = 0;
  for (const index of rest) {
    creditTotal += creditShare(assignments[index].credits);
    computeTotal += assignments[index].compute_share;
  }
  const others = {
    label: `others (${rest.length} workers, average)`,
    credit_share: creditTotal / rest.length,
    compute_share: computeTotal / rest.length,
    detail: `on average each; together ${percent(creditTotal)} of the credits and ${percent(computeTotal)} of the compute`,
  };
  return [...top, others];
}

/** Long worker ids would run into the bars; the full id is in the row's tooltip. */
function shortLabel(label) {
  return label.length > 32 ? `${label.slice(0, 31)}…` : label;
}

function percent(share) {
  return `${(share * 100).toFixed(share < 0.001 && share > 0 ? 4 : 1)}%`;
}

function legend(svg) {
  const entries = [['credits', 'share of the credits'], ['compute', 'compute share']];
  entries.forEach(([kind, text], position) => {
    const x = LABEL_WIDTH + position * 220;
    svg.append(element('rect', { x, y: 4, width: 14, height: 14, class: `bar ${kind}` }));
    svg.append(element('text', { x: x + 20, y: 16, class: 'legend' }, text));
  });
}

export function drawChart(container, assignments, budget) {
  const rows = chartRows(assignments, budget);
  const height = LEGEND_HEIGHT + rows.length * ROW_HEIGHT + 4;
  const svg = element('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': 'Credits share and compute share per worker' });
  legend(svg);
  const largest = Math.max(Number.MIN_VALUE, ...rows.flatMap((row) => [row.credit_share, row.compute_share]));
  const barSpan = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  rows.forEach((row, position) => {
    const top = LEGEND_HEIGHT + position * ROW_HEIGHT;
    const group = element('g', { class: 'worker' });
    group.append(element('title', {}, `${row.label}: ${percent(row.credit_share)} of the credits, compute share ${percent(row.compute_share)} (${row.detail})`));
    group.append(element('text', { x: LABEL_WIDTH - 8, y: top + BAR_HEIGHT + 4, class: 'label' }, shortLabel(row.label)));
    [['credits', row.credit_share], ['compute', row.compute_share]].forEach(([kind, share], bar) => {
      const y = top + bar * BAR_HEIGHT;
      const width = Math.max(share > 0 ? 1 : 0, (share / largest) * barSpan);
      group.append(element('rect', { x: LABEL_WIDTH, y, width, height: BAR_HEIGHT - 1, class: `bar ${kind}` }));
      group.append(element('text', { x: LABEL_WIDTH + width + 4, y: y + BAR_HEIGHT - 2, class: 'value' }, percent(share)));
    });
    svg.append(group);
  });
  container.replaceChildren(svg);
}
