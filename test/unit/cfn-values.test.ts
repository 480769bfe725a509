/**
 * The local stand-ins for the CloudFormation values of serverless.yml's function environments
 * (local/cfn-values.ts), used by `npm run local`, `bvc start --local` and `npm run bench`: every
 * `!Ref`/`!GetAtt` there resolves (a new one that does not breaks this test, not the bench an hour
 * later), tables resolve to the names the demo account creates, and a value without a stand-in fails
 * naming what it names.
 */
import { describe, expect, it } from 'vitest';
import { roleArnSchema } from '../../functions/shared/job-input.js';
import { environmentCfnValues, lambdaLogicalId, resolveCfnValue, stackResources } from '../../local/cfn-values.js';
import * as seed from '../../local/seed.js';
import { LOCAL_STAGE, functionEnvironment, resolveParams, resolveVariables } from '../../local/stage-params.js';
import { callbackTaskFunctions, lambdaTaskFunctions, loadServerlessConfig, localStateMachineArn } from '../../local/workflow.js';

const account = { accountId: '123456789012', region: 'us-east-1' };
// The handlers' own checks of these variables (functions/reaper/handler.ts, functions/notify/handler.ts).
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/;

describe('CloudFormation values in the function environments of serverless.yml', () => {
  it('every !Ref and !GetAtt of every function environment has a local value', () => {
    // Prepare
    const config = loadServerlessConfig();
    const values = environmentCfnValues(config);

    // Act
    const resolved = values.map(({ functionKey, name, value }) => [`${functionKey}.${name}`, resolveCfnValue(value, `functions.${functionKey}.environment.${name}`, account)]);

    // Assess: the list is real (pseudo parameters, tables, a role's ARN, the state machine, the topic) and every value is text
    expect(values.length).toBeGreaterThanOrEqual(10);
    for (const [, value] of resolved) expect(value).toMatch(/^\S+$/);
  });

  it("every function's whole environment builds with the stage's params (no CloudFormation value left out or unresolved)", () => {
    // Prepare
    const config = loadServerlessConfig();
    const params = resolveParams({}, config);

    // Act / Assess: one function at a time (the state machine's are merged by the local runner)
    for (const key of Object.keys(config.functions)) {
      const env = functionEnvironment(params, account, config, [key]);
      expect(Object.keys(env).sort(), key).toEqual(Object.keys(config.functions[key]!.environment ?? {}).sort());
    }
  });

  it('each value is what the handlers accept and the local run uses, by the kind of resource it names', () => {
    // Prepare
    const config = loadServerlessConfig();
    const resources = stackResources(config);
    const kinds = new Set<string>();

    // Act / Assess: by what each value names (so a variable added or removed changes nothing here)
    for (const { functionKey, name, value } of environmentCfnValues(config)) {
      const where = `functions.${functionKey}.environment.${name}`;
      const local = resolveCfnValue(value, where, account, resources);
      const ref = (value as { Ref?: string }).Ref;
      const getAtt = (value as { 'Fn::GetAtt'?: string | string[] })['Fn::GetAtt'];
      const [id, attribute] = ref !== undefined ? [ref, undefined] : typeof getAtt === 'string' ? getAtt.split('.') : getAtt!;
      const kind = id!.startsWith('AWS::') ? id! : `${resources[id!]!.type}${attribute ? `.${attribute}` : ''}`;
      kinds.add(kind);
      const expected: Record<string, (v: string) => void> = {
        'AWS::AccountId': (v) => expect(v, where).toBe('123456789012'),
        'AWS::Partition': (v) => expect(v, where).toBe('aws'),
        'AWS::Region': (v) => expect(v, where).toBe('us-east-1'),
        'AWS::DynamoDB::Table': (v) => expect(v, where).toBe(seed.localTableName(id!)),
        'AWS::IAM::Role.Arn': (v) => expect(roleArnSchema.parse(v), where).toMatch(/^arn:aws:iam::123456789012:role\/[a-z0-9-]+$/),
        'AWS::StepFunctions::StateMachine': (v) => expect(v, where).toBe(localStateMachineArn('us-east-1')),
        'AWS::SNS::Topic': (v) => expect(v, where).toMatch(SNS_TOPIC_ARN),
      };
      expect(Object.keys(expected), `${where}: a kind this test does not check yet`).toContain(kind);
      expected[kind]!(local);
    }
    // The kinds serverless.yml uses today: a value of each was checked
    for (const kind of ['AWS::AccountId', 'AWS::Partition', 'AWS::DynamoDB::Table', 'AWS::IAM::Role.Arn', 'AWS::StepFunctions::StateMachine', 'AWS::SNS::Topic']) {
      expect([...kinds]).toContain(kind);
    }
    expect(STATE_MACHINE_ARN.test(localStateMachineArn('us-east-1'))).toBe(true);
  });

  it("every DynamoDB table of serverless.yml resolves to the name the demo account creates (seed.ts's <TABLE>_NAME)", () => {
    // Prepare
    const tables = Object.entries(stackResources()).filter(([, r]) => r.type === 'AWS::DynamoDB::Table').map(([id]) => id);
    const constant = (id: string) => `${id.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_NAME`;

    // Assess: JobWaitsTable → JOB_WAITS_TABLE_NAME = 'job-waits', and so on for every table
    expect(tables.length).toBeGreaterThanOrEqual(3);
    for (const id of tables) {
      const local = resolveCfnValue({ Ref: id }, id, account);
      expect(local, id).toBe(seed.localTableName(id));
      expect((seed as Record<string, unknown>)[constant(id)], `seed.ts ${constant(id)}`).toBe(local);
    }
    expect(seed.localTableName('JobLedgerTable')).toBe('job-ledger');
    expect(seed.localTableName('PolicyLeasesTable')).toBe('policy-leases');
  });

  it('a new !Ref of a new table resolves with no code change', () => {
    // Prepare: a copy of serverless.yml with one more table, named by one more function variable
    const config = loadServerlessConfig();
    (config.resources as { Resources: Record<string, unknown> }).Resources.JobReceiptsTable = { Type: 'AWS::DynamoDB::Table' };
    config.functions['submit-job']!.environment = { JOB_RECEIPTS_TABLE: { Ref: 'JobReceiptsTable' }, JOB_RECEIPTS_ARN: { 'Fn::GetAtt': ['JobReceiptsTable', 'Arn'] } };

    // Act
    const env = functionEnvironment(resolveParams({}, config), account, config, ['submit-job']);

    // Assess
    expect(env).toEqual({ JOB_RECEIPTS_TABLE: 'job-receipts', JOB_RECEIPTS_ARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/job-receipts' });
  });

  it('knows the resources the Framework generates: the functions and the state machine by its id', () => {
    // Prepare
    const resources = stackResources();

    // Assess
    expect(lambdaLogicalId('validate-network')).toBe('ValidateDashnetworkLambdaFunction');
    expect(resources.ValidateDashnetworkLambdaFunction).toEqual({ type: 'AWS::Lambda::Function', functionKey: 'validate-network' });
    expect(resources.CustomizeModelStateMachine).toEqual({ type: 'AWS::StepFunctions::StateMachine' });
    expect(resolveCfnValue({ 'Fn::GetAtt': 'JobDasheventsLambdaFunction.Arn' }, 'x', account)).toBe('arn:aws:lambda:us-east-1:123456789012:function:job-events');
  });

  describe('fails naming what has no local value', () => {
    it('an unknown logical id, by !Ref or !GetAtt, in functionEnvironment', () => {
      // Prepare
      const config = loadServerlessConfig();
      config.functions['submit-job']!.environment = { LEDGER: { Ref: 'NoSuchLedgerTable' } };
      const getAtt = loadServerlessConfig();
      getAtt.functions['submit-job']!.environment = { ROLE: { 'Fn::GetAtt': 'NoSuchRole.Arn' } };

      // Act / Assess
      expect(() => functionEnvironment(resolveParams({}, config), account, config, ['submit-job'])).toThrow(
        /functions\.submit-job\.environment\.LEDGER: !Ref NoSuchLedgerTable names NoSuchLedgerTable, which is no resource of serverless\.yml/,
      );
      expect(() => functionEnvironment(resolveParams({}, getAtt), account, getAtt, ['submit-job'])).toThrow(/ROLE: !GetAtt NoSuchRole\.Arn names NoSuchRole/);
    });

    it('a resource Type, attribute, pseudo parameter or function without a stand-in', () => {
      // Assess: NotificationKey is an AWS::KMS::Key of serverless.yml
      expect(() => resolveCfnValue({ Ref: 'NotificationKey' }, 'functions.f.environment.KEY', account)).toThrow(
        /functions\.f\.environment\.KEY: !Ref NotificationKey: NotificationKey is an AWS::KMS::Key, whose Ref has no local stand-in/,
      );
      expect(() => resolveCfnValue({ 'Fn::GetAtt': ['JobWaitsTable', 'StreamArn'] }, 'T', account)).toThrow(/JobWaitsTable is an AWS::DynamoDB::Table, whose StreamArn has no local stand-in/);
      expect(() => resolveCfnValue({ Ref: 'AWS::StackName' }, 'S', account)).toThrow(/S: !Ref AWS::StackName is a pseudo parameter with no local stand-in/);
      expect(() => resolveCfnValue({ 'Fn::Sub': '${AWS::Region}' }, 'V', account)).toThrow(/V: Fn::Sub has no local stand-in/);
    });
  });

  it('pseudo parameters follow the account, region and partition given', () => {
    const cn = { accountId: '210987654321', region: 'cn-north-1', partition: 'aws-cn' };
    expect(resolveCfnValue({ Ref: 'AWS::AccountId' }, 'a', cn)).toBe('210987654321');
    expect(resolveCfnValue({ Ref: 'AWS::Region' }, 'r', cn)).toBe('cn-north-1');
    expect(resolveCfnValue({ Ref: 'AWS::Partition' }, 'p', cn)).toBe('aws-cn');
    expect(resolveCfnValue({ 'Fn::GetAtt': 'ApplyPoliciesRole.Arn' }, 'g', cn)).toBe('arn:aws-cn:iam::210987654321:role/apply-policies');
  });
});

describe('the local run and the bench get every variable a deployment sets (local/stage-params.ts)', () => {
  const deployed = (config: ReturnType<typeof loadServerlessConfig>, key: string) => {
    const provider = resolveVariables((config.provider as { environment?: unknown }).environment ?? {}, resolveParams({}, config), 'provider.environment', config) as Record<string, unknown>;
    return [...new Set([...Object.keys(provider), ...Object.keys(config.functions[key]!.environment ?? {})])].sort();
  };

  it("every function the local run executes: each variable of provider.environment and of its environment, none with a ${…} left", () => {
    // Prepare: the functions of the state machine's Tasks and callbacks, whose environments the local run and the bench merge
    const config = loadServerlessConfig();
    const functions = [...new Set([...Object.values(lambdaTaskFunctions(config)), ...Object.values(callbackTaskFunctions())])];

    // Act: the environment as cli/local-target.ts and the bench groups build it (default functions)
    const env = functionEnvironment(resolveParams({}, config), account, config);

    // Assess
    expect(functions).toEqual(expect.arrayContaining(['validate-network', 'validate-dataset', 'apply-policies', 'submit-job', 'poll-status', 'job-events']));
    for (const key of functions) {
      const missing = deployed(config, key).filter((name) => !Object.hasOwn(env, name));
      expect(missing, `${key}: serverless.yml sets these, the local run does not`).toEqual([]);
    }
    for (const [name, value] of Object.entries(env)) expect(value, name).not.toMatch(/\$\{/);
  });

  it('every function of serverless.yml, one at a time: the same', () => {
    const config = loadServerlessConfig();
    for (const key of Object.keys(config.functions)) {
      const env = functionEnvironment(resolveParams({}, config), account, config, [key]);
      expect(Object.keys(env).sort(), key).toEqual(deployed(config, key));
      for (const [name, value] of Object.entries(env)) expect(value, `${key}.${name}`).not.toMatch(/\$\{/);
    }
  });

  it("the workflow's own roles are exempt as deployed: WORKFLOW_ROLE_ARN, DATASET_ROLE_ARN and SNAPSHOT_ROLE_ARN are the roles' local ARNs", () => {
    const config = loadServerlessConfig();
    const env = functionEnvironment(resolveParams({}, config), account, config, ['apply-policies']);
    expect(env.WORKFLOW_ROLE_ARN).toBe(resolveCfnValue({ 'Fn::GetAtt': ['ValidateNetworkRole', 'Arn'] }, 'x', account));
    expect(env.DATASET_ROLE_ARN).toBe(resolveCfnValue({ 'Fn::GetAtt': ['ValidateDatasetRole', 'Arn'] }, 'x', account));
    expect(env.SNAPSHOT_ROLE_ARN).toBe(resolveCfnValue({ 'Fn::GetAtt': ['SubmitJobRole', 'Arn'] }, 'x', account));
    expect(roleArnSchema.parse(env.WORKFLOW_ROLE_ARN)).toMatch(/^arn:aws:iam::123456789012:role\//);
    expect(roleArnSchema.parse(env.DATASET_ROLE_ARN)).toMatch(/^arn:aws:iam::123456789012:role\//);
    expect(env.DATASET_ROLE_ARN).not.toBe(env.WORKFLOW_ROLE_ARN);
  });

  it('resolves ${self:…}, ${sls:stage} and nested references as osls does (notify: NOTIFY_METRIC_NAMESPACE), and provider.environment', () => {
    const config = loadServerlessConfig();
    const env = functionEnvironment(resolveParams({}, config), account, config, ['notify']);
    expect(env.NOTIFY_METRIC_NAMESPACE).toBe(`${config.service as string}/${LOCAL_STAGE}`);
    // sourceMaps 'true' switches provider.environment (${self:custom.sourceMaps.${param:sourceMaps}.environment}) for every function
    const withMaps = functionEnvironment(resolveParams({ sourceMaps: 'true' }, config), account, config, ['notify', 'janitor']);
    expect(withMaps.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('a new variable the local run cannot resolve fails naming it', () => {
    const config = loadServerlessConfig();
    config.functions['submit-job']!.environment = { ...config.functions['submit-job']!.environment, NEW_THING: '${ssm:/some/parameter}' };
    expect(() => functionEnvironment(resolveParams({}, config), account, config, ['submit-job'])).toThrow(
      /functions\.submit-job\.environment\.NEW_THING: \$\{ssm:\/some\/parameter\} is a variable source the local run does not resolve/,
    );
    config.functions['submit-job']!.environment = { NEW_PARAM: '${param:noSuchParam}' };
    expect(() => functionEnvironment(resolveParams({}, config), account, config, ['submit-job'])).toThrow(/NEW_PARAM refers to \$\{param:noSuchParam\}/);
  });
});
