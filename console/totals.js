// The totals of an answer: what the job burned, what the workers were paid, and whether the two are
// equal to the unit. The comparison is exact (BigInt units): "equal" here means what the ledger
// will see, not what a float sum rounds to.

import { compareDecimals, subtractDecimals, sumDecimals } from './decimal.js';

function entry(list, term, value, { id, verdict } = {}) {
  const name = document.createElement('dt');
  name.textContent = term;
  const data = document.createElement('dd');
  data.textContent = value;
  if (id !== undefined) data.id = id;
  if (verdict !== undefined) data.className = verdict ? 'verdict equal' : 'verdict differ';
  list.append(name, data);
}

/** Whether a + b = total, exactly, and the mark that says so. */
function sumMark(parts, total, wording) {
  const sum = sumDecimals(parts);
  const equal = compareDecimals(sum, total) === 0;
  return { equal, text: equal ? `✔ ${wording}, to the unit` : `✘ not equal: off by ${subtractDecimals(sum, total)}` };
}

/**
 * `burned` is what the submitter pays for this answer: a delta's consumption, or the budget a
 * contribution splits. `reservation` is there for a delta of a job that has one.
 */
export function showTotals(list, { burned, burnedField, assignments, reservation }) {
  const paid = sumDecimals(assignments.map((worker) => worker.credits));
  const payout = sumMark([paid], burned, 'paid = burned');
  list.replaceChildren();
  entry(list, `Burned (${burnedField})`, burned, { id: 'total-burned' });
  entry(list, `Paid (sum of ${assignments.length} workers' credits)`, paid, { id: 'total-paid' });
  entry(list, 'Paid against burned', payout.text, { id: 'total-check', verdict: payout.equal });
  if (reservation === undefined) return;
  const { reserved_credits, burned_credits, remaining_credits } = reservation;
  const balance = sumMark([burned_credits, remaining_credits], reserved_credits, 'burned + remaining = reserved');
  entry(list, 'Reserved (reservation.reserved_credits)', reserved_credits, { id: 'reservation-reserved' });
  entry(list, 'Burned so far (reservation.burned_credits)', burned_credits, { id: 'reservation-burned' });
  entry(list, 'Remaining (reservation.remaining_credits)', remaining_credits, { id: 'reservation-remaining' });
  entry(list, 'Reservation balance', balance.text, { id: 'reservation-check', verdict: balance.equal });
}
