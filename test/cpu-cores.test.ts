/**
 * The cores the service sizes its pool and cluster for: the CPUs it may run on, bounded by a
 * cgroup CPU quota (a container's CPU limit), which os.availableParallelism() does not see.
 */
import fc from 'fast-check';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cgroupQuotaCores, coresOfQuota, usableCores, type TextFileReader } from '../src/cpu-cores.js';

/** A file system holding only `files`. */
const filesOf = (files: Readonly<Record<string, string>>): TextFileReader => (path) => files[path];

describe('the cores of a CPU quota', () => {
  it('rounds a quota up to whole cores, and reads no limit as none', () => {
    expect(coresOfQuota('100000', '100000')).toBe(1);
    expect(coresOfQuota('150000', '100000')).toBe(2);
    expect(coresOfQuota('50000', '100000')).toBe(1);
    expect(coresOfQuota('400000', '100000')).toBe(4);
    expect(coresOfQuota('max', '100000')).toBeUndefined();
    expect(coresOfQuota('-1', '100000')).toBeUndefined();
    expect(coresOfQuota('0', '100000')).toBeUndefined();
    expect(coresOfQuota('100000', '0')).toBeUndefined();
    expect(coresOfQuota('', '')).toBeUndefined();
    expect(coresOfQuota('1e5', '100000')).toBeUndefined();
  });

  it('gives the fewest whole cores that hold the quota, for any quota and period', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 30 }), (quota, period) => {
        const cores = coresOfQuota(String(quota), String(period))!;
        expect(cores).toBeGreaterThanOrEqual(1);
        expect(cores * period).toBeGreaterThanOrEqual(quota);
        if (cores > 1) expect((cores - 1) * period).toBeLessThan(quota);
      }),
    );
  });

  it('reads cgroup v2 first, then either mount of cgroup v1', () => {
    expect(cgroupQuotaCores(filesOf({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' }))).toBe(2);
    expect(cgroupQuotaCores(filesOf({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(cgroupQuotaCores(filesOf({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }))).toBe(1);
    expect(cgroupQuotaCores(filesOf({ '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '300000\n', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n' }))).toBe(3);
    expect(cgroupQuotaCores(filesOf({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }))).toBeUndefined();
    expect(cgroupQuotaCores(filesOf({}))).toBeUndefined();
  });
});

describe('the usable cores', () => {
  it('are the available cores without a quota, and no more than the quota with one', () => {
    expect(usableCores(filesOf({}))).toBe(availableParallelism());
    expect(usableCores(filesOf({ '/sys/fs/cgroup/cpu.max': '100000 100000' }))).toBe(1);
    expect(usableCores(filesOf({ '/sys/fs/cgroup/cpu.max': `${1000 * 100000} 100000` }))).toBe(availableParallelism());
  });

  it('read this machine without failing, and count at least one core', () => {
    const cores = usableCores();
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(availableParallelism());
  });
});
