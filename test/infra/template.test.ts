/**
 * Deployment shape: `osls package` offline (dummy credentials, no AWS account), then assertions on
 * the CloudFormation template it writes, and cfn-lint on it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aslPath, projectRoot } from '../../scripts/lib/paths.js';

const run = promisify(execFile);
const outDir = mkdtempSync(join(tmpdir(), 'bvc-package-'));
const templatePath = join(outDir, 'cloudformation-template-update-stack.json');
type Resource = { Type: string; Properties: Record<string, any> };
let resources: Record<string, Resource>;
let packageOutput: string;

beforeAll(async () => {
  const out = await run('npx', ['osls', 'package', '--stage', 'ci', '--region', 'eu-west-1', '--package', outDir], {
    cwd: projectRoot,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00', AWS_SECRET_ACCESS_KEY: 'dummy', SLS_TELEMETRY_DISABLED: '1' },
  });
  packageOutput = `${out.stdout}\n${out.stderr}`;
  resources = JSON.parse(readFileSync(templatePath, 'utf8')).Resources;
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('packaged CloudFormation template', () => {
  it('validates serverless.yml: the only unknown property is the v4 `build` block', () => {
    const problems = [...packageOutput.matchAll(/^\s+at (.+)$/gm)].map((m) => m[1]);
    expect(problems).toEqual(["root: unrecognized property 'build'"]);
  });

  it('has the five step functions and the janitor on nodejs22.x arm64', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(
      [
        'ApplyDashpoliciesLambdaFunction',
        'CleanupDashenisLambdaFunction',
        'JanitorLambdaFunction',
        'PollDashstatusLambdaFunction',
        'SubmitDashjobLambdaFunction',
        'ValidateDashnetworkLambdaFunction',
      ].sort(),
    );
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Handler).toMatch(/handler\.handler$/);
    }
  });

  it('has one state machine whose definition is the ASL file, with Lambda ARNs resolved by Fn::GetAtt', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(1);
    const props = machines[0]![1].Properties;
    const [template, vars] = props.DefinitionString['Fn::Sub'] as [string, Record<string, unknown>];
    const asl = parse(readFileSync(aslPath, 'utf8'));
    const deployed = JSON.parse(template.replace(/"\$\{[^}]+\}"/g, '"arn"'));
    expect(Object.keys(deployed.States).sort()).toEqual(Object.keys(asl.States).sort());
    expect(deployed.TimeoutSeconds).toBe(asl.TimeoutSeconds);
    expect(Object.values(vars)).toEqual(
      expect.arrayContaining([{ 'Fn::GetAtt': ['ValidateDashnetworkLambdaFunction', 'Arn'] }, { 'Fn::GetAtt': ['CleanupDashenisLambdaFunction', 'Arn'] }]),
    );
  });

  it('starts the workflow from S3 "Object Created" events of the training bucket via EventBridge', () => {
    const rules = ofType('AWS::Events::Rule');
    const upload = rules.find(([, r]) => r.Properties.EventPattern?.source?.includes('aws.s3'));
    expect(upload).toBeDefined();
    const { EventPattern, Targets, State } = upload![1].Properties;
    expect(State).toBe('ENABLED');
    expect(EventPattern['detail-type']).toEqual(['Object Created']);
    expect(EventPattern.detail.bucket.name).toEqual(['training-bucket']);
    expect(EventPattern.detail.object.key).toEqual([{ wildcard: 'datasets/*.jsonl' }]);
    expect(Targets[0].InputTransformer.InputTemplate).toContain('"trainingDataS3Uri": "s3://<bucket>/<key>"');
  });

  it('runs the janitor on a schedule and on Bedrock job state changes to a terminal status', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes('JanitorLambdaFunction'));
    const schedule = rules.find(([, r]) => r.Properties.ScheduleExpression);
    expect(schedule?.[1].Properties.ScheduleExpression).toBe('rate(6 hours)');
    const onEvent = rules.find(([, r]) => r.Properties.EventPattern);
    expect(onEvent?.[1].Properties.EventPattern).toEqual({
      source: ['aws.bedrock'],
      'detail-type': ['Model Customization Job State Change'],
      detail: { status: ['Completed', 'Failed', 'Stopped'] },
    });
    expect(resources.JanitorLambdaFunction!.Properties.Environment.Variables).toMatchObject({
      JANITOR_GRACE_SECONDS: '86400',
      JANITOR_DRY_RUN: 'false',
    });
  });

  it('passes stage params to validate-network as its defaults', () => {
    const env = resources.ValidateDashnetworkLambdaFunction!.Properties.Environment.Variables;
    expect(env).toMatchObject({
      DEFAULT_VPC_ID: 'vpc-0123456789abcdef0',
      DEFAULT_SUBNET_IDS: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
      DEFAULT_ROLE_ARN: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
      DEFAULT_OUTPUT_S3_URI: 's3://output-bucket/runs/',
    });
  });

  it('lets the state machine stop jobs and start only itself (hand-over)', () => {
    const machine = ofType('AWS::StepFunctions::StateMachine')[0]![1];
    expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['CustomizeModelStateMachineRole', 'Arn'] });
    const role = resources.CustomizeModelStateMachineRole!;
    const statements = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions).toContain('bedrock:StopModelCustomizationJob');
    expect(actions).not.toContain('*');
    const start = statements.find((s: any) => [s.Action].flat().includes('states:StartExecution'));
    expect(JSON.stringify(start.Resource)).toContain(':stateMachine:bedrock-vpc-customization-ci-customize-model');
    // only the log/trace delivery actions (which take no resource) are on "*"
    for (const s of statements.filter((s: any) => s.Resource === '*')) {
      expect([s.Action].flat().every((a: string) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
    }
    const invoke = statements.find((s: any) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invoke.Resource).toHaveLength(5);
  });

  describe('each function has its own least-privilege role', () => {
    const statementsOf = (fn: string) => {
      const roleRef = resources[fn]!.Properties.Role as { 'Fn::GetAtt': [string, string] };
      const role = resources[roleRef['Fn::GetAtt'][0]]!;
      return role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement) as any[];
    };
    const actionsOf = (fn: string) => statementsOf(fn).flatMap((s) => [s.Action].flat() as string[]).filter((a) => !a.startsWith('logs:'));
    const WRITES = /:(Put|Delete|Modify|Create|Tag|Stop|PassRole|Update|Attach)/;

    it('no shared Lambda role is generated', () => {
      expect(resources.IamRoleLambdaExecution).toBeUndefined();
    });

    it('validate-network can only read', () => {
      expect(actionsOf('ValidateDashnetworkLambdaFunction').filter((a) => WRITES.test(a))).toEqual([]);
    });

    it('apply-policies writes only the endpoint, the Bedrock role inline policy and the two buckets', () => {
      const writes = statementsOf('ApplyDashpoliciesLambdaFunction').filter((s) =>
        [s.Action].flat().some((a: string) => WRITES.test(a) && !a.startsWith('logs:')),
      );
      expect(writes.map((s) => [s.Action].flat().sort())).toEqual([
        ['ec2:ModifyVpcEndpoint'],
        ['iam:DeleteRolePolicy', 'iam:GetRolePolicy', 'iam:PutRolePolicy'],
        ['s3:DeleteBucketPolicy', 's3:GetBucketPolicy', 's3:PutBucketPolicy'],
      ]);
      expect(writes[1].Resource).toBe('arn:aws:iam::123456789012:role/BedrockCustomizationRole');
      expect(JSON.stringify(writes[2].Resource)).toContain('s3:::output-bucket');
    });

    it('cleanup-enis and the janitor delete only ENIs tagged BedrockManaged=true; the janitor tags only first-seen', () => {
      for (const fn of ['CleanupDashenisLambdaFunction', 'JanitorLambdaFunction']) {
        const del = statementsOf(fn).find((s) => [s.Action].flat().includes('ec2:DeleteNetworkInterface'));
        expect(del.Condition).toEqual({ StringEquals: { 'ec2:ResourceTag/BedrockManaged': 'true' } });
      }
      expect(actionsOf('CleanupDashenisLambdaFunction').sort()).toEqual(['ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces']);
      const tag = statementsOf('JanitorLambdaFunction').find((s) => [s.Action].flat().includes('ec2:CreateTags'));
      expect(tag.Condition['ForAllValues:StringEquals']).toEqual({ 'aws:TagKeys': ['bedrock-vpc-customization:first-seen'] });
    });

    it('submit-job passes the Bedrock role only to Bedrock; poll-status only reads the job', () => {
      const passRole = statementsOf('SubmitDashjobLambdaFunction').find((s) => [s.Action].flat().includes('iam:PassRole'));
      expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } });
      expect(actionsOf('PollDashstatusLambdaFunction')).toEqual(['bedrock:GetModelCustomizationJob']);
    });

    it('each role writes logs only to its own function log group', () => {
      for (const [fn, name] of [
        ['ValidateDashnetworkLambdaFunction', 'validate-network'],
        ['JanitorLambdaFunction', 'janitor'],
      ] as const) {
        const logs = statementsOf(fn).find((s) => [s.Action].flat().includes('logs:PutLogEvents'));
        expect(JSON.stringify(logs.Resource)).toContain(`log-group:/aws/lambda/bedrock-vpc-customization-ci-${name}:*`);
      }
    });

    it('apply-policies exempts the preflight role (it reads the buckets from outside the VPC) from the bucket Deny', () => {
      expect(resources.ApplyDashpoliciesLambdaFunction!.Properties.Environment.Variables.WORKFLOW_ROLE_ARN).toEqual({
        'Fn::GetAtt': ['ValidateNetworkRole', 'Arn'],
      });
    });
  });

  it('passes cfn-lint', async () => {
    // W3005 (redundant DependsOn): the Framework adds DependsOn to each function for its role even
    // though the Role property's Fn::GetAtt already orders them; everything else must be clean.
    const args = ['--format', 'parseable', '--ignore-checks', 'W3005', '--', templatePath];
    const result = await run(join(projectRoot, '.venv', 'bin', 'cfn-lint'), args).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
