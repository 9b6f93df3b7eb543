/**
 * The cores this process may use. node's availableParallelism() counts the CPUs the process may
 * run on (its affinity mask), but not a CPU quota: a container's CPU limit is a quota of the
 * cgroup, so a pod limited to one core on an 8-core node would size its worker pool and its
 * cluster for 8. Where the cgroup sets a quota, its whole cores (rounded up) bound the count.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Where a quota is read: cgroup v2 first, then the two mounts cgroup v1 uses. */
const CGROUP_V2_CPU_MAX = '/sys/fs/cgroup/cpu.max';
const CGROUP_V1_DIRECTORIES = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'];

/** Reads a file's text, or undefined when it cannot be read. */
export type TextFileReader = (path: string) => string | undefined;

/** availableParallelism(), bounded by the cgroup's CPU quota where there is one; at least 1. */
export function usableCores(readText: TextFileReader = readTextFile): number {
  const quota = cgroupQuotaCores(readText);
  return Math.max(1, quota === undefined ? availableParallelism() : Math.min(availableParallelism(), quota));
}

/** The cgroup's CPU quota in whole cores, rounded up; undefined when there is none or it cannot be read. */
export function cgroupQuotaCores(readText: TextFileReader): number | undefined {
  const v2 = readText(CGROUP_V2_CPU_MAX);
  if (v2 !== undefined) return coresOfQuota(...splitCpuMax(v2));
  for (const directory of CGROUP_V1_DIRECTORIES) {
    const quota = readText(`${directory}/cpu.cfs_quota_us`);
    const period = readText(`${directory}/cpu.cfs_period_us`);
    if (quota !== undefined && period !== undefined) return coresOfQuota(quota.trim(), period.trim());
  }
  return undefined;
}

/** cgroup v2's cpu.max: "<quota> <period>", the quota "max" when unlimited. */
function splitCpuMax(text: string): [string, string] {
  const [quota = '', period = ''] = text.trim().split(/\s+/);
  return [quota, period];
}

/** Whole cores of a quota over a period, both in microseconds; undefined when unlimited ("max", -1) or malformed. */
export function coresOfQuota(quota: string, period: string): number | undefined {
  if (!/^\d+$/.test(quota) || !/^\d+$/.test(period)) return undefined;
  const quotaUs = Number(quota);
  const periodUs = Number(period);
  if (quotaUs <= 0 || periodUs <= 0) return undefined;
  return Math.max(1, Math.ceil(quotaUs / periodUs));
}

function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
