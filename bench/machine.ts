/**
 * How much CPU other processes took while a benchmark ran. These machines have 2 cores, and a
 * neighbour (a test run, a build) moves the figures by tens of percent, so every row reports it
 * and a run taken alongside one can be told apart and repeated.
 */
import { readFileSync } from 'node:fs';

/** Linux reports /proc/stat in USER_HZ ticks, 100 per second on every common platform. */
const TICKS_PER_SEC = 100;

export interface CpuWatch {
  /** CPU seconds that other processes used since the watch started, per second of wall time; null off Linux. */
  othersShare(): number | null;
}

export function watchCpu(): CpuWatch {
  const machineStart = machineBusySecs();
  const ownStart = process.cpuUsage();
  const wallStart = process.hrtime.bigint();
  return {
    othersShare() {
      const machineNow = machineBusySecs();
      if (machineStart === null || machineNow === null) return null;
      const own = process.cpuUsage(ownStart);
      const ownSecs = (own.user + own.system) / 1e6;
      const wallSecs = Number(process.hrtime.bigint() - wallStart) / 1e9;
      return Math.max(0, machineNow - machineStart - ownSecs) / wallSecs;
    },
  };
}

/** CPU seconds all processes have used since boot: every state of the first line of /proc/stat but idle and iowait. */
function machineBusySecs(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SEC;
  } catch {
    return null;
  }
}
