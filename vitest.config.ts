import { defineConfig } from 'vitest/config';

/**
 * Four tiers, all run by `npm test` (see README "Tests"):
 * unit (logic, mocked clients) · statemachine (the ASL file with the real handlers, mocked clients)
 * · emulator (real SDK calls to moto server) · abuse (attacks, against moto or the ASL) · infra (`osls package` + cfn-lint on the template; `osls deploy` into moto's CloudFormation).
 */
export default defineConfig({
  test: {
    // The JSON report feeds the closing "N passed, N failed" line of .ci/run.
    reporters: ['default', ['json', { outputFile: 'coverage/test-results.json' }]],
    coverage: {
      provider: 'v8',
      // The Lambdas, the CLI and the local engine (what `npm run local` runs); the CLI's build (cli/dist) is not source.
      include: ['functions/**/*.ts', 'cli/**/*.ts', 'local/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 90, functions: 90, branches: 80, statements: 90 },
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/setup/unit.ts'],
        },
      },
      {
        test: {
          name: 'statemachine',
          include: ['test/statemachine/**/*.test.ts'],
          setupFiles: ['test/setup/unit.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'emulator',
          include: ['test/emulator/**/*.test.ts'],
          globalSetup: ['test/setup/moto-global.ts'],
          setupFiles: ['test/setup/emulator.ts'],
          // One moto server for the tier; files run one after another so account-wide
          // queries (all BedrockManaged ENIs…) see only their own file's resources.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          // Attacks (test/abuse/README.md): each capability an attacker may hold, each invariant.
          name: 'abuse',
          include: ['test/abuse/**/*.test.ts'],
          globalSetup: ['test/setup/abuse-global.ts'],
          setupFiles: ['test/setup/abuse.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
