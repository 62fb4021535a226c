import { describe, expect, it } from 'vitest';
import { createBufferBudget } from '../../../node/cache/pump.js';

describe('the buffer budget', () => {
  it('lets bytes in up to the budget, queues the rest in order, and always lets one chunk pass', async () => {
    const budget = createBufferBudget(100);
    await budget.acquire(60);
    const order: string[] = [];
    const b = budget.acquire(60).then(() => order.push('b'));
    const c = budget.acquire(30).then(() => order.push('c'));
    await new Promise((r) => setTimeout(r, 10));
    expect([order, budget.held()]).toEqual([[], 60]);
    budget.release(60);
    await Promise.all([b, c]);
    expect([order, budget.held(), budget.peak()]).toEqual([['b', 'c'], 90, 90]);
    budget.release(90);
    // A chunk larger than the whole budget passes alone.
    await budget.acquire(500);
    expect(budget.peak()).toBe(500);
  });
});
