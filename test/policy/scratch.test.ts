import { describe, expect, it } from 'vitest';
import { ScratchDoubles } from '../../src/policy/scratch.js';

describe('ScratchDoubles', () => {
  it('hands out views of exactly the length asked for', () => {
    const scratch = new ScratchDoubles();
    expect(scratch.take(0).length).toBe(0);
    expect(scratch.take(5).length).toBe(5);
    expect(scratch.take(3).length).toBe(3);
  });

  it('reuses its room for a request it can hold, and grows for one it cannot', () => {
    const scratch = new ScratchDoubles();
    const first = scratch.take(100);
    first[0] = 42;
    const smaller = scratch.take(10);
    expect(smaller.buffer).toBe(first.buffer);
    expect(smaller[0]).toBe(42);
    const larger = scratch.take(1000);
    expect(larger.buffer).not.toBe(first.buffer);
    expect(scratch.take(1000).buffer).toBe(larger.buffer);
  });
});
