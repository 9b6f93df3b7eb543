// Exact arithmetic on the service's decimal strings ("13.714285714"). Money is compared and summed
// as BigInt units, never as floats: a float sum of 10000 payouts would not equal the burn.

const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;

export function isDecimalString(value) {
  return typeof value === 'string' && DECIMAL.test(value);
}

export function fractionDigitsOf(amount) {
  const point = amount.indexOf('.');
  return point < 0 ? 0 : amount.length - point - 1;
}

/** The amount as an integer count of 10^-scale units; scale must be at least its fraction digits. */
export function unitsOf(amount, scale) {
  const negative = amount.startsWith('-');
  const [whole, fraction = ''] = (negative ? amount.slice(1) : amount).split('.');
  const units = BigInt(whole + fraction.padEnd(scale, '0'));
  return negative ? -units : units;
}

export function formatUnits(units, scale) {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** The exact sum, written with as many fraction digits as the longest amount has. */
export function sumDecimals(amounts) {
  const scale = Math.max(0, ...amounts.map(fractionDigitsOf));
  const total = amounts.reduce((sum, amount) => sum + unitsOf(amount, scale), 0n);
  return formatUnits(total, scale);
}

/** -1, 0 or 1, exactly, whatever the fraction digits of each side. */
export function compareDecimals(left, right) {
  const scale = Math.max(fractionDigitsOf(left), fractionDigitsOf(right));
  const a = unitsOf(left, scale);
  const b = unitsOf(right, scale);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** left - right, exactly. */
export function subtractDecimals(left, right) {
  const scale = Math.max(fractionDigitsOf(left), fractionDigitsOf(right));
  return formatUnits(unitsOf(left, scale) - unitsOf(right, scale), scale);
}
