import { defineConfig } from 'vitest/config';

// Four projects: unit (pure, no sockets), integration (real PostgreSQL, real sockets), browser
// (real Chromium), and timing: the tests that measure the balancer's event-loop lag run last,
// one file at a time, once everything else is done, so that what they measure is the balancer
// and not the other test files sharing the cores. Each test file gets its own database cloned
// from a migrated template, so files run in parallel safely.
const TIMING = ['test/integration/publication/bombs.test.ts', 'test/integration/balancer/h2-floods.test.ts'];

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000, sequence: { groupOrder: 0 } } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: TIMING,
          sequence: { groupOrder: 0 },
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
          maxWorkers: 1,
        },
      },
      {
        test: {
          name: 'timing',
          include: TIMING,
          sequence: { groupOrder: 1 },
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 1,
        },
      },
    ],
  },
});
