/**
 * Attack: a job input that makes the preflight (the only step that reads an RFT grader Lambda) touch a
 * Lambda function the stage does not list in graderLambdaArns: another function of the account, a
 * version or alias of a listed one, a function of another account or region.
 *
 * Invariants:
 * - the preflight sends no Lambda call for a function outside the stage's graderLambdaArns: ResolveInput
 *   refuses the job first (InvalidInputError naming the field), and a job that reaches validateNetwork
 *   without ResolveInput (a forged resolved job) naming another account or region is refused by the
 *   preflight itself, without a call;
 * - the preflight never invokes a Lambda (no InvokeCommand is ever sent);
 * - the workflow's role (ValidateNetworkRole in serverless.yml) allows lambda:GetFunction and
 *   lambda:GetPolicy on exactly the graderLambdaArns functions as listed, nothing else and no
 *   lambda:InvokeFunction, and holds no Lambda permission at all when the list is empty: were the code
 *   wrong, IAM would still deny it. The statements are read from serverless.yml and evaluated with the
 *   project's policy evaluator (functions/shared/policies/eval.ts).
 *
 * Tried with the real ValidateNetwork handler against moto (a grader created there), and on serverless.yml.
 */
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../functions/shared/errors.js';
import { resolveJobInput, type JobInput } from '../../functions/shared/job-input.js';
import type { PolicyDocument } from '../../functions/shared/policies/document.js';
import { evaluatePolicies } from '../../functions/shared/policies/eval.js';
import { buildReport } from '../../functions/validate-network/validate-network.js';
import { resolveParams } from '../../local/stage-params.js';
import { demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { loadLambdaHandlers, loadServerlessConfig, type TaskHandler } from '../../local/workflow.js';
import { setStage, testStage } from '../fixtures/stage.js';
import { commandsSentDuring, motoClients, resetMoto } from '../support/moto-clients.js';

const clients = motoClients();
const { ec2, s3, iam, lambda, dynamodb } = clients;
const GRADER = 'arn:aws:lambda:us-east-1:123456789012:function:reward-grader';
/** Lambdas a job might try to reach through the grader field: none is in the stage's list. */
const OUTSIDE = {
  'another function of the account': 'arn:aws:lambda:us-east-1:123456789012:function:payroll',
  'an alias of the listed function': `${GRADER}:live`,
  'a version of the listed function': `${GRADER}:1`,
  'the listed name in another region': 'arn:aws:lambda:us-west-2:123456789012:function:reward-grader',
  'the listed name in another account': 'arn:aws:lambda:us-east-1:210987654321:function:reward-grader',
};
const rft = (lambdaArn: string) => ({
  customizationType: 'REINFORCEMENT_FINE_TUNING',
  baseModelIdentifier: 'amazon.nova-2-lite-v1:0:256k',
  hyperParameters: {},
  customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn } } } },
});
const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:run-1', name: 'run-1' };

let account: DemoAccount;
let lambdas: Record<string, TaskHandler>;
const stageParams = () => demoStageParams(account, { graderLambdaArns: GRADER });

beforeAll(async () => {
  await resetMoto();
  account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
  // The listed grader and the "payroll" function exist: a call to either would succeed were it sent.
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: 'grader-execution',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    }),
  );
  const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)]);
  for (const name of ['reward-grader', 'payroll']) {
    await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'python3.12', Role: role.Role!.Arn!, Handler: 'h.handler', Code: { ZipFile: zip } }));
  }
  setStage(stageParams());
  lambdas = await loadLambdaHandlers();
});

const lambdaCommands = (sent: string[]) => sent.filter((c) => /^(Get(Function|Policy|FunctionConfiguration|FunctionConcurrency|Alias)|Invoke|List(Functions|Versions|Aliases))/.test(c) && !/Role|PolicyVersion/.test(c));

describe('a job names a Lambda outside the stage graderLambdaArns', () => {
  it.each(Object.entries(OUTSIDE))('%s: ValidateNetwork refuses it (InvalidInputError naming the field) before any AWS call', async (_, arn) => {
    const { result, sent } = await commandsSentDuring(() =>
      lambdas.ValidateNetwork!({ input: demoJobInput(account, rft(arn)), execution } as never).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    // (The handlers are loaded as the Lambda runtime loads them: their own module instances, so by name.)
    expect(result).toMatchObject({ name: InvalidInputError.name });
    expect((result as Error).message).toContain('customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn');
    expect(sent).toEqual([]);
  });

  it('the listed grader: the preflight reads it (GetFunction, GetPolicy) and never invokes it', async () => {
    const { sent } = await commandsSentDuring(() => lambdas.ValidateNetwork!({ input: demoJobInput(account, rft(GRADER)), execution } as never));
    expect(lambdaCommands(sent).sort()).toEqual(['GetFunctionCommand', 'GetPolicyCommand']);
    expect(sent.filter((c) => c.startsWith('Invoke'))).toEqual([]);
  });

  it('a forged resolved job (ResolveInput skipped) naming another account or region: the preflight fails it without a Lambda call', async () => {
    const resolved = resolveJobInput(demoJobInput(account, rft(GRADER)), testStage(stageParams()), execution);
    for (const arn of [OUTSIDE['the listed name in another region'], OUTSIDE['the listed name in another account']]) {
      const forged = { ...resolved, customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: arn } } } } } as JobInput;
      const { result, sent } = await commandsSentDuring(() => buildReport(forged, clients));
      expect(lambdaCommands(sent)).toEqual([]);
      expect(result.checks.find((c) => c.id === 'grader.exists')).toMatchObject({ passed: false, severity: 'fail', resource: arn });
    }
  });
});

/**
 * ValidateNetworkRole's statements as CloudFormation resolves them for a deployment with `params`:
 * the Framework's variables (`${param:…}`) first, then the intrinsic functions the role uses (Fn::If
 * on the template's Conditions, Ref to its Parameters and pseudo parameters, Fn::Sub, Fn::Split,
 * Fn::Join, Fn::Not, Fn::Equals). An intrinsic it does not know throws: the test never guesses.
 */
function validateNetworkRolePolicy(params: Record<string, string>): PolicyDocument {
  const config = loadServerlessConfig() as unknown as { resources: { Resources: Record<string, any>; Parameters: Record<string, { Default: string }>; Conditions: Record<string, unknown> } };
  const resolvedParams = resolveParams(params);
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012', 'AWS::NoValue': '\u0000novalue' };
  const sub = (text: string) => text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => (name.includes(':') && !name.startsWith('AWS::') ? whole : String(ref(name))));
  const variable = (text: string) => text.replace(/\$\{param:([^}]+)\}/g, (_, name: string) => resolvedParams[name] ?? '');
  const ref = (name: string): unknown => {
    if (name in pseudo) return pseudo[name];
    const parameter = config.resources.Parameters[name];
    if (!parameter) throw new Error(`Ref ${name}: not a Parameter of serverless.yml`);
    return variable(parameter.Default);
  };
  const evaluate = (value: any): any => {
    if (typeof value === 'string') return variable(value);
    if (Array.isArray(value)) return value.map(evaluate).filter((v) => v !== pseudo['AWS::NoValue']);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) {
      const [fn] = keys as [string];
      const arg = value[fn];
      switch (fn) {
        case 'Ref':
          return ref(arg);
        case 'Fn::Sub':
          return sub(variable(arg));
        case 'Fn::Split':
          return String(evaluate(arg[1])).split(arg[0]);
        case 'Fn::Join':
          return (evaluate(arg[1]) as string[]).join(arg[0]);
        case 'Fn::Equals':
          return evaluate(arg[0]) === evaluate(arg[1]);
        case 'Fn::Not':
          return !evaluate(arg[0]);
        case 'Fn::If':
          return evaluate(config.resources.Conditions[arg[0]]) ? evaluate(arg[1]) : evaluate(arg[2]);
        default:
          throw new Error(`${fn}: not an intrinsic this test resolves`);
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v)]));
  };
  const role = config.resources.Resources.ValidateNetworkRole;
  const statements = role.Properties.Policies.flatMap((p: any) => evaluate(p.PolicyDocument.Statement));
  return { Version: '2012-10-17', Statement: statements };
}

describe("the workflow's role would deny it anyway (serverless.yml ValidateNetworkRole)", () => {
  const decide = (policy: PolicyDocument, action: string, resource: string) => evaluatePolicies([policy], { action, resource, context: {} });

  it('allows GetFunction and GetPolicy on the listed grader, on nothing outside the list, and never InvokeFunction', () => {
    const policy = validateNetworkRolePolicy({ graderLambdaArns: GRADER });
    for (const action of ['lambda:GetFunction', 'lambda:GetPolicy']) {
      expect(decide(policy, action, GRADER), action).toBe('allowed');
      for (const [what, arn] of Object.entries(OUTSIDE)) expect(decide(policy, action, arn), `${action} on ${what}`).toBe('absent');
    }
    for (const arn of [GRADER, ...Object.values(OUTSIDE)]) {
      for (const action of ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionCode', 'lambda:AddPermission']) {
        expect(decide(policy, action, arn), `${action} on ${arn}`).toBe('absent');
      }
    }
    // Every Lambda action of the role is one of the two reads (no wildcard action, no wildcard resource).
    const lambdaStatements = policy.Statement.filter((s) => [s.Action].flat().some((a) => String(a).startsWith('lambda:')));
    expect(lambdaStatements.map((s) => [s.Action].flat()).flat().sort()).toEqual(['lambda:GetFunction', 'lambda:GetPolicy']);
    expect(lambdaStatements.map((s) => s.Resource)).toEqual([[GRADER]]);
  });

  it('an alias the stage lists is the only alias allowed: its unqualified function and other aliases are not', () => {
    const policy = validateNetworkRolePolicy({ graderLambdaArns: `${GRADER}:live` });
    expect(decide(policy, 'lambda:GetFunction', `${GRADER}:live`)).toBe('allowed');
    expect(decide(policy, 'lambda:GetFunction', GRADER)).toBe('absent');
    expect(decide(policy, 'lambda:GetFunction', `${GRADER}:canary`)).toBe('absent');
  });

  it('with graderLambdaArns empty (the default): no Lambda permission at all', () => {
    const policy = validateNetworkRolePolicy({ graderLambdaArns: '' });
    expect(policy.Statement.filter((s) => JSON.stringify(s).includes('lambda:'))).toEqual([]);
    expect(decide(policy, 'lambda:GetFunction', GRADER)).toBe('absent');
  });
});
