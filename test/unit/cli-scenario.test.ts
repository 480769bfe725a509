/**
 * `--scenario` of the local target (cli/local-options.ts SCENARIOS, parsed by cli/main.ts): the two
 * evaluation-gate scenarios (promote, reject) next to complete, failure and deadline, what reaches the
 * local target, the usage errors, the help text, and how the stand-in's models answer in each
 * (cli/local-target.ts standInAnswers; the keys and values of local/bedrock-standin.ts StandInModels).
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../cli/local-options.js';
import { standInAnswers, type LocalTarget } from '../../cli/local-target.js';
import { EXIT } from '../../cli/main.js';
import type { ExecutionView } from '../../functions/shared/execution-view.js';
import { captureCli } from '../support/cli.js';

const VIEW: ExecutionView = {
  execution: { arn: 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-local-customize-model:run-1', name: 'run-1', status: 'SUCCEEDED' },
  outcome: 'completed',
  headline: 'Job x completed',
  states: [],
};

/** `bvc status run-1 --local <args>` with a local target that records the options the CLI built and runs nothing. */
async function statusWith(args: string[]) {
  const seen: Array<ConstructorParameters<typeof LocalTarget>[0]> = [];
  const run = await captureCli(['status', 'run-1', '--local', ...args], {
    localTarget: (options) => {
      seen.push(options);
      return { seeded: true, description: 'test', view: async () => VIEW } as unknown as LocalTarget;
    },
  });
  return { ...run, options: seen[0] };
}

describe('--scenario', () => {
  it('takes promote and reject as well as complete, failure and deadline, and passes them to the local target', async () => {
    expect(SCENARIOS).toEqual(['complete', 'failure', 'deadline', 'promote', 'reject']);
    for (const scenario of SCENARIOS) {
      const run = await statusWith(['--scenario', scenario]);
      expect(run.code, run.stderr).toBe(EXIT.ok);
      expect(run.options?.scenario).toBe(scenario);
    }
    const none = await statusWith([]);
    expect(none.options).not.toHaveProperty('scenario');
  });

  it('refuses an unknown scenario, naming every one; and a scenario with --endpoint (exit 2, no target built)', async () => {
    const unknown = await statusWith(['--scenario', 'promoted']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain('--scenario must be one of complete, failure, deadline, promote, reject, got "promoted"');
    expect(unknown.options).toBeUndefined();
    const withEndpoint = await statusWith(['--scenario', 'reject', '--endpoint', 'http://127.0.0.1:5000', '--params', 'params.json']);
    expect(withEndpoint.code).toBe(EXIT.usage);
    expect(withEndpoint.stderr).toContain("--scenario drives the embedded emulator's stand-in for Bedrock");
    const deployed = await captureCli(['status', 'run-1', '--stage', 'dev', '--scenario', 'promote']);
    expect(deployed.code).toBe(EXIT.usage);
    expect(deployed.stderr).toContain('--scenario is for the local target (--local)');
  });

  it('the help names the gate scenarios', async () => {
    const help = await captureCli(['--help']);
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toContain('[--scenario complete|failure|deadline|promote|reject]');
    expect(help.stdout).toContain('promote|reject: a Nova Micro job through the evaluation gate');
  });

  it("the stand-in's answers: promote — the custom model's deployment the reference answers, the base a fixed sentence; reject — the other way round", () => {
    expect(standInAnswers('promote')).toEqual({ deployment: { answers: 'reference' }, base: { answers: 'fixed' } });
    expect(standInAnswers('reject')).toEqual({ deployment: { answers: 'fixed' }, base: { answers: 'reference' } });
    // The other scenarios keep the stand-in's default (python/bedrock_standin.py: deployment reference, base fixed).
    for (const scenario of ['complete', 'failure', 'deadline'] as const) expect(standInAnswers(scenario)).toEqual(standInAnswers('promote'));
  });
});
