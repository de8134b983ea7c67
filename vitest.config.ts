import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts', 'sim/**/*.ts', 'functions/**/*.ts', 'cli/**/*.ts'],
      reporter: ['text-summary', 'html'],
    },
  },
});
