/** How the HTTP suite prints its figures. */
import { cpus, loadavg } from 'node:os';

export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return `${value.toFixed(0)} ms`;
  if (value >= 1) return `${value.toFixed(2)} ms`;
  return `${(value * 1000).toFixed(0)} us`;
}

export function us(value: number): string {
  if (value >= 1000) return `${(value / 1000).toFixed(2)} ms`;
  if (value >= 10) return `${value.toFixed(1)} us`;
  return `${value.toFixed(2)} us`;
}

export function rate(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function mib(bytes: number | null): string {
  return bytes === null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The machine and its load, for the line under each run's figures. */
export function machineLine(pinned: boolean): string {
  const [one, five] = loadavg();
  return `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${one!.toFixed(2)} (1 min), ${five!.toFixed(2)} (5 min); ${pinned ? 'servers on CPU 0, load generator on CPU 1 (taskset)' : 'not pinned (no taskset)'}; ${new Date().toISOString()}`;
}

/** The machine and its load in a few words, for the plot. */
export function shortMachineLine(): string {
  return `node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)}, ${new Date().toISOString().slice(0, 16)}Z; server pinned to one core`;
}
