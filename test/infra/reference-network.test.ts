/**
 * examples/reference-network.yml (the optional reference network, README "Reference network") through
 * the project's scanners, as test/infra/template.test.ts and scanners.test.ts run them on the stack:
 * cfn-lint with no finding at all (no ignored rule), and checkov with no failed check (a check that
 * does not fit is skipped in the template's Metadata, with its reason).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../local/paths.js';

const run = promisify(execFile);
/** cfn-lint from the emulator's environment (.venv), checkov from the scanners' (.venv-scanners). */
const bin = (name: string) => join(projectRoot, name === 'checkov' ? '.venv-scanners' : '.venv', 'bin', name);
const TEMPLATE = join(projectRoot, 'examples', 'reference-network.yml');

describe('examples/reference-network.yml', () => {
  it("names its outputs like serverless.yml's stage params, so they pass straight on", () => {
    // Only the outputs' names are read: CloudFormation's short-form tags resolve to a placeholder.
    const anyTag = ['!Ref', '!If', '!Join', '!GetAtt', '!Sub', '!Select', '!GetAZs', '!Equals'].flatMap((tag) => [
      { tag, resolve: (): string => 'x' },
      { tag, collection: 'seq' as const, resolve: (): string => 'x' },
    ]);
    const template = parse(readFileSync(TEMPLATE, 'utf8'), { customTags: anyTag }) as { Outputs: Record<string, unknown> };
    const serverless = parse(readFileSync(join(projectRoot, 'serverless.yml'), 'utf8'), { strict: false, logLevel: 'silent' }) as {
      params: { default: Record<string, unknown> };
    };
    const outputs = Object.keys(template.Outputs);
    expect(outputs).toEqual(expect.arrayContaining(['vpcId', 'subnetIds', 'securityGroupIds', 's3EndpointIds', 'bedrockRoleArn']));
    for (const name of outputs) expect(Object.keys(serverless.params.default), name).toContain(name);
  });

  it('passes cfn-lint with no error, warning or informational finding', async () => {
    const args = ['--format', 'parseable', '--include-checks', 'I', '--', TEMPLATE];
    const result = await run(bin('cfn-lint'), args).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });

  describe('checkov', () => {
    type Check = { check_id: string; check_name: string; resource: string; check_result: { suppress_comment?: string } };
    let results: { failed_checks: Check[]; skipped_checks: Check[]; passed_checks: Check[] };

    beforeAll(async () => {
      // --skip-download: no calls to the vendor's platform; checkov exits 1 when a check fails.
      const args = ['-f', TEMPLATE, '--framework', 'cloudformation', '-o', 'json', '--skip-download'];
      const out = await run(bin('checkov'), args, { maxBuffer: 16 * 1024 * 1024 }).then(
        (r) => r.stdout,
        (e: { stdout: string }) => e.stdout,
      );
      results = { failed_checks: [], skipped_checks: [], passed_checks: [], ...[JSON.parse(out)].flat()[0].results };
    });

    it('finds no failed check', () => {
      expect(results.failed_checks.map((c) => `${c.check_id} ${c.resource}: ${c.check_name}`)).toEqual([]);
      // The security group, its rules and the role with its policies were all scanned.
      const scanned = new Set(results.passed_checks.map((c) => c.resource));
      for (const r of [
        'AWS::EC2::SecurityGroup.JobSecurityGroup',
        'AWS::EC2::SecurityGroupIngress.JobSecurityGroupSelfIngress',
        'AWS::EC2::SecurityGroupEgress.JobSecurityGroupSelfEgress',
        'AWS::IAM::Role.BedrockCustomizationRole',
        'AWS::IAM::Policy.BedrockVpcAccessPolicy',
        'AWS::IAM::Policy.BedrockS3AccessPolicy',
      ]) {
        expect(scanned, r).toContain(r);
      }
    });

    it('skips no check without a reason', () => {
      for (const c of results.skipped_checks) expect(c.check_result.suppress_comment?.trim().length ?? 0, c.check_id).toBeGreaterThan(20);
    });
  });
});
