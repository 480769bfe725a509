/**
 * Deploy rehearsal (infra tier): the real `osls deploy` of the packaged stage into the emulator's
 * CloudFormation (moto server from the project's .venv, reached through AWS_ENDPOINT_URL, dummy
 * credentials, nothing leaves this machine); every resource of the template created; `bvc list
 * --stage` answering from the deployed stack; the real `osls remove` deleting it.
 *
 * moto validates every template with the cfn-lint of the same .venv and refuses it on any finding,
 * warnings included (template.test.ts runs the same cfn-lint with only the ignores written in the
 * template, each with its reason). The stage is packaged with notificationEmail and extraBuckets set,
 * so both conditions (CloudFormation Parameters, serverless.yml `resources.Parameters`) are true and
 * every resource of the template is expected.
 *
 * `osls deploy --package DIR` deploys what `osls package` wrote (test/support/package-stage.ts, as the
 * other infra tests package it): the Framework's own deploy (deployment bucket stack, uploads, change
 * sets, the step-functions plugin's after-deploy hook), without a second esbuild run beside theirs.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionCommand, GetPolicyCommand, LambdaClient, ListFunctionsCommand, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type MotoServer } from '../../local/moto.js';
import { projectRoot } from '../../local/paths.js';
import { SERVICE } from '../../cli/aws-target.js';
import { packageStage } from '../support/package-stage.js';

const run = promisify(execFile);
const STAGE = 'ci';
const REGION = 'eu-west-1';
const STACK = `${SERVICE}-${STAGE}`;
const EXTRA_BUCKETS = ['extra-a', 'extra-b'];

/**
 * Resource types of the template that moto 5.2.5's CloudFormation has no model for (its
 * moto/cloudformation/parsing.py get_model_map; it logs "No Moto CloudFormation support for <type>"):
 * the stack lists such a resource, without its logical id, and nothing is created. Checked against
 * moto's own map below, so an entry goes stale loudly when moto adds the type.
 */
const NOT_CREATED_BY_MOTO: Record<string, string> = {
  'AWS::CloudWatch::Alarm': "moto's CloudWatch has alarms (PutMetricAlarm) but no CloudFormation model for them; the four alarms' properties are asserted in template.test.ts.",
  'AWS::S3::BucketPolicy': "No CloudFormation model in moto; it is the Framework's deployment bucket policy (TLS only), checked by checkov in scanners.test.ts.",
  'AWS::SNS::TopicPolicy': "No CloudFormation model in moto; the topic's policy (who may publish, TLS only) is asserted in template.test.ts.",
  'AWS::SNS::Subscription': 'No CloudFormation model in moto; the email subscription (condition HasNotificationEmail, true here) is the one resource of that type.',
};

/**
 * Types moto creates but lists with an empty PhysicalResourceId (its CloudFormation models of them
 * have none); each is checked in its service instead (the finds-the-resources test).
 */
const NO_PHYSICAL_ID_IN_MOTO = new Set(['AWS::Lambda::Version', 'AWS::Lambda::Permission']);

let moto: MotoServer;
let packaged: Awaited<ReturnType<typeof packageStage>>;
let env: NodeJS.ProcessEnv;
let deployed: { output: string };
let listed: StackResourceSummary[];
const clients = {} as {
  cloudformation: CloudFormationClient;
  lambda: LambdaClient;
  sfn: SFNClient;
  dynamodb: DynamoDBClient;
  iam: IAMClient;
  s3: S3Client;
  sns: SNSClient;
};

/** The real osls, with the emulator as every service's endpoint and dummy credentials. */
const osls = (...args: string[]) => run('npx', ['osls', ...args, '--stage', STAGE, '--region', REGION], { cwd: projectRoot, env, maxBuffer: 16 * 1024 * 1024 });

beforeAll(async () => {
  [moto, packaged] = await Promise.all([
    startMoto(),
    packageStage('--param', 'notificationEmail=ops@example.com', '--param', `extraBuckets=${EXTRA_BUCKETS.join(',')}`),
  ]);
  const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, ...rest } = process.env;
  env = {
    ...rest,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00',
    AWS_SECRET_ACCESS_KEY: 'dummy',
    AWS_REGION: REGION,
    SLS_TELEMETRY_DISABLED: '1',
  };
  const config = { endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'dummy' } };
  Object.assign(clients, {
    cloudformation: new CloudFormationClient(config),
    lambda: new LambdaClient(config),
    sfn: new SFNClient(config),
    dynamodb: new DynamoDBClient(config),
    iam: new IAMClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sns: new SNSClient(config),
  });
  const out = await osls('deploy', '--package', packaged.dir).catch((e: { stdout: string; stderr: string; message: string }) => {
    throw new Error(`osls deploy failed: ${e.message}\n${e.stdout}\n${e.stderr}`);
  });
  deployed = { output: `${out.stdout}\n${out.stderr}` };
  listed = [];
  let NextToken: string | undefined;
  do {
    const page = await clients.cloudformation.send(new ListStackResourcesCommand({ StackName: STACK, ...(NextToken ? { NextToken } : {}) }));
    listed.push(...(page.StackResourceSummaries ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
});

afterAll(async () => {
  await moto?.stop();
  if (packaged) rmSync(packaged.dir, { recursive: true, force: true });
});

const templateResources = () => Object.entries(packaged.template.Resources);
const physicalId = (logicalId: string) => {
  const found = listed.find((r) => r.LogicalResourceId === logicalId);
  if (!found?.PhysicalResourceId) throw new Error(`${logicalId} not in the stack`);
  return found.PhysicalResourceId;
};

describe('deploy rehearsal: osls deploy into the emulator', () => {
  it('deploys the stack with the real osls deploy', async () => {
    expect(deployed.output).toContain(`Service deployed to stack ${STACK}`);
    const { Stacks } = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: STACK }));
    // osls creates the stack with its deployment bucket, then updates it to the packaged template.
    expect(Stacks?.[0]?.StackStatus).toBe('UPDATE_COMPLETE');
    const outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    expect(outputs.StateMachineArn).toBe(physicalId('CustomizeModelStateMachine'));
    expect(outputs.NotificationTopicArn).toBe(physicalId('NotificationTopic'));
  });

  it('lists every resource of the template in the stack, created; only the types moto cannot create are missing', async () => {
    // No condition is false with these params: every resource of the template is expected.
    expect(templateResources().filter(([, r]) => 'Condition' in r).map(([id]) => id)).toEqual(['NotificationEmailSubscription']);
    const { stdout } = await run(join(projectRoot, '.venv', 'bin', 'python'), [
      '-c',
      'import json, sys; from moto.cloudformation.parsing import get_model_map; print(json.dumps(sorted(get_model_map())))',
    ]);
    const motoTypes = new Set(JSON.parse(stdout) as string[]);
    const types = new Set(templateResources().map(([, r]) => r.Type));
    expect([...types].filter((t) => !motoTypes.has(t)).sort()).toEqual(Object.keys(NOT_CREATED_BY_MOTO).sort());
    for (const reason of Object.values(NOT_CREATED_BY_MOTO)) expect(reason.length).toBeGreaterThan(40);

    const expected = templateResources().filter(([, r]) => motoTypes.has(r.Type));
    const byId = new Map(listed.filter((r) => r.LogicalResourceId).map((r) => [r.LogicalResourceId!, r]));
    const missing = expected.filter(([id]) => !byId.has(id)).map(([id]) => id);
    expect(missing).toEqual([]);
    for (const [id, r] of expected) {
      const summary = byId.get(id)!;
      expect(summary.ResourceType, id).toBe(r.Type);
      expect(summary.ResourceStatus, id).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
      if (!NO_PHYSICAL_ID_IN_MOTO.has(r.Type)) expect(summary.PhysicalResourceId, id).toBeTruthy();
    }
    // Nothing else: the stack holds the template's resources, and one unnamed entry per resource moto cannot create.
    expect([...byId.keys()].filter((id) => !packaged.template.Resources[id])).toEqual([]);
    const notCreated = templateResources().filter(([, r]) => !motoTypes.has(r.Type));
    expect(listed.filter((r) => !r.LogicalResourceId).length).toBe(notCreated.length);
    console.info(`created ${expected.length} of ${templateResources().length} resources; not created by moto: ${notCreated.map(([id, r]) => `${id} (${r.Type})`).join(', ')}`);
  });

  it('finds the resources in their services (functions, state machine, tables, roles, topic, bucket)', async () => {
    const ids = (type: string) => templateResources().filter(([, r]) => r.Type === type).map(([id]) => id);
    const checks: Record<string, (id: string) => Promise<unknown>> = {
      'AWS::Lambda::Function': (id) => clients.lambda.send(new GetFunctionCommand({ FunctionName: id })),
      'AWS::StepFunctions::StateMachine': (id) => clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: id })),
      'AWS::DynamoDB::Table': (id) => clients.dynamodb.send(new DescribeTableCommand({ TableName: id })),
      'AWS::IAM::Role': (id) => clients.iam.send(new GetRoleCommand({ RoleName: id })),
      'AWS::SNS::Topic': (id) => clients.sns.send(new GetTopicAttributesCommand({ TopicArn: id })),
      'AWS::S3::Bucket': (id) => clients.s3.send(new HeadBucketCommand({ Bucket: id })),
    };
    let checked = 0;
    for (const [type, check] of Object.entries(checks)) {
      expect(ids(type).length, type).toBeGreaterThan(0);
      for (const id of ids(type)) {
        await expect(check(physicalId(id)), `${id} (${type})`).resolves.toBeTruthy();
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(28);

    // Versions and permissions (no physical id in moto's listing): one published version per
    // AWS::Lambda::Version of a function, one policy statement per AWS::Lambda::Permission.
    const functionOf = (ref: unknown) => physicalId((ref as { Ref?: string; 'Fn::GetAtt'?: [string, string] }).Ref ?? (ref as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    const count = (type: string) => {
      const byFunction = new Map<string, number>();
      for (const [, r] of templateResources().filter(([, r]) => r.Type === type)) {
        const name = functionOf(r.Properties.FunctionName);
        byFunction.set(name, (byFunction.get(name) ?? 0) + 1);
      }
      return byFunction;
    };
    const versions = count('AWS::Lambda::Version');
    const permissions = count('AWS::Lambda::Permission');
    expect(versions.size).toBe(ids('AWS::Lambda::Function').length);
    expect(permissions.size).toBeGreaterThan(0);
    for (const [name, n] of versions) {
      const listedVersions = (await clients.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }))).Versions ?? [];
      expect(listedVersions.filter((v) => v.Version !== '$LATEST').length, name).toBe(n);
    }
    for (const [name, n] of permissions) {
      const policy = await clients.lambda.send(new GetPolicyCommand({ FunctionName: name }));
      expect((JSON.parse(policy.Policy!) as { Statement: unknown[] }).Statement.length, name).toBe(n);
    }
  });

  it("evaluates the conditions at deploy time: the extraBuckets param's buckets are in the roles' policies", async () => {
    // moto returns an inline policy that CloudFormation created as Python's rendering of it (single
    // quotes), not JSON: the ARNs are looked for as quoted strings in it.
    const documentOf = async (logicalId: string, policyName: string) =>
      decodeURIComponent((await clients.iam.send(new GetRolePolicyCommand({ RoleName: physicalId(logicalId), PolicyName: policyName }))).PolicyDocument!);
    const network = await documentOf('ValidateNetworkRole', 'validate-network');
    const dataset = await documentOf('ValidateDatasetRole', 'validate-dataset');
    for (const bucket of EXTRA_BUCKETS) {
      // The preflight lists the buckets; only the dataset check reads their objects.
      expect(network).toMatch(new RegExp(`["']arn:\\*:s3:::${bucket}["']`));
      expect(network).not.toMatch(new RegExp(`["']arn:\\*:s3:::${bucket}/\\*["']`));
      expect(dataset).toMatch(new RegExp(`["']arn:\\*:s3:::${bucket}["']`));
      expect(dataset).toMatch(new RegExp(`["']arn:\\*:s3:::${bucket}/\\*["']`));
    }
  });

  it('answers `bvc list --stage` from the deployed stack', async () => {
    const stateMachineArn = physicalId('CustomizeModelStateMachine');
    const started = await clients.sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: 'deploy-rehearsal', input: JSON.stringify({ trainingDataUri: 's3://training-bucket/datasets/a.jsonl' }) }),
    );
    const { stdout } = await run(process.execPath, [join(projectRoot, 'cli', 'bvc.mjs'), 'list', '--stage', STAGE, '--region', REGION, '--json'], { cwd: projectRoot, env });
    const rows = JSON.parse(stdout) as { arn: string; name: string; status: string }[];
    expect(rows).toEqual([expect.objectContaining({ arn: started.executionArn, name: 'deploy-rehearsal', status: 'RUNNING' })]);
  });

  it('deletes the stack with the real osls remove (the job ledger kept: DeletionPolicy Retain)', async () => {
    const { Stacks } = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: STACK }));
    const stackId = Stacks![0]!.StackId!;
    const tables = { ledger: physicalId('JobLedgerTable'), leases: physicalId('PolicyLeasesTable'), waits: physicalId('JobWaitsTable') };
    const out = await osls('remove');
    expect(`${out.stdout}\n${out.stderr}`).toContain(`Service ${SERVICE} has been successfully removed`);
    const after = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackId }));
    expect(after.Stacks?.[0]?.StackStatus).toBe('DELETE_COMPLETE');
    const functions = (await clients.lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
    expect(functions.map((f) => f.FunctionName)).toEqual([]);
    const { TableNames } = await clients.dynamodb.send(new ListTablesCommand({}));
    expect(TableNames).toEqual([tables.ledger]);
  });
});
