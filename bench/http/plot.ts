/**
 * A line chart as SVG text, written by hand so the bench needs no plotting library: x on a log
 * scale (worker counts), y linear from 0, one line per series, points marked and labelled.
 */
export interface Series {
  readonly name: string;
  readonly colour: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface Chart {
  readonly title: string;
  readonly x_label: string;
  readonly y_label: string;
  readonly series: readonly Series[];
  readonly note: string;
}

const WIDTH = 720;
const HEIGHT = 440;
const LEFT = 70;
const RIGHT = 30;
const TOP = 50;
const BOTTOM = 90;

export function lineChartSvg(chart: Chart): string {
  const points = chart.series.flatMap((series) => series.points);
  const xs = points.map(([x]) => x);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const yMax = niceCeiling(Math.max(...points.map(([, y]) => y)));
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const xAt = (x: number) => LEFT + ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * plotWidth;
  const yAt = (y: number) => TOP + plotHeight - (y / yMax) * plotHeight;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${escape(chart.title)}</text>`,
  ];
  for (let step = 0; step <= 5; step += 1) {
    const y = (yMax * step) / 5;
    parts.push(
      `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${yAt(y).toFixed(1)}" y2="${yAt(y).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${LEFT - 6}" y="${(yAt(y) + 4).toFixed(1)}" text-anchor="end">${trim(y)}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((left, right) => left - right)) {
    parts.push(
      `<line x1="${xAt(x).toFixed(1)}" x2="${xAt(x).toFixed(1)}" y1="${TOP}" y2="${TOP + plotHeight}" stroke="#eee"/>`,
      `<text x="${xAt(x).toFixed(1)}" y="${TOP + plotHeight + 18}" text-anchor="middle">${x}</text>`,
    );
  }
  parts.push(
    `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${TOP + plotHeight}" y2="${TOP + plotHeight}" stroke="black"/>`,
    `<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${TOP + plotHeight}" stroke="black"/>`,
    `<text x="${LEFT + plotWidth / 2}" y="${TOP + plotHeight + 38}" text-anchor="middle">${escape(chart.x_label)}</text>`,
    `<text transform="translate(18 ${TOP + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escape(chart.y_label)}</text>`,
  );
  for (const [index, series] of chart.series.entries()) {
    const path = series.points.map(([x, y]) => `${xAt(x).toFixed(1)},${yAt(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${series.colour}" stroke-width="2" points="${path}"/>`);
    for (const [x, y] of series.points) {
      parts.push(
        `<circle cx="${xAt(x).toFixed(1)}" cy="${yAt(y).toFixed(1)}" r="3.5" fill="${series.colour}"/>`,
        `<text x="${(xAt(x) + 6).toFixed(1)}" y="${(yAt(y) - 6).toFixed(1)}" fill="${series.colour}">${trim(y)}</text>`,
      );
    }
    const legendY = HEIGHT - 34;
    const legendX = LEFT + index * 300;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY}" y2="${legendY}" stroke="${series.colour}" stroke-width="2"/>`,
      `<text x="${legendX + 30}" y="${legendY + 4}">${escape(series.name)}</text>`,
    );
  }
  parts.push(`<text x="${LEFT}" y="${HEIGHT - 10}" fill="#555" font-size="11">${escape(chart.note)}</text>`, '</svg>');
  return parts.join('\n') + '\n';
}

/** The smallest of 1, 2 or 5 times a power of ten at or above `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

function trim(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toPrecision(2);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
