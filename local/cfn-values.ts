/**
 * Local stand-ins for the CloudFormation values in serverless.yml's function environments: what
 * `!Ref AWS::AccountId | AWS::Region | AWS::Partition`, `!Ref <LogicalId>` and
 * `!GetAtt <LogicalId>.<Attribute>` resolve to when the Lambdas run on this machine (`npm run local`,
 * `bvc start --local`, `npm run bench`).
 *
 * One rule, no per-variable cases: a logical id's CloudFormation Type is read from serverless.yml
 * (`resources.Resources`, plus the resources the Framework and its step-functions plugin generate
 * from `functions` and `stepFunctions.stateMachines`), and {@link STAND_INS} holds, per Type, the
 * local value of its `Ref` and attributes. So a new `!Ref SomeTable` needs no code change; a value
 * with no stand-in fails loudly, naming the function, the variable and the logical id.
 */
import { localResourceName, localTableName } from './seed.js';
import { loadServerlessConfig, localStateMachineArn } from './workflow.js';

/** Where the stage runs locally: what the pseudo parameters resolve to, and the account of every ARN. */
export interface LocalAccount {
  accountId: string;
  region: string;
  /** Default `aws`. */
  partition?: string;
}

type Config = ReturnType<typeof loadServerlessConfig>;

/** A resource of the stack as a stand-in sees it. */
interface Resource {
  logicalId: string;
  account: Required<LocalAccount>;
  /** The serverless.yml function key, for the functions the Framework generates. */
  functionKey?: string;
}

/** Per CloudFormation Type: the local value of `Ref`, and of each attribute `Fn::GetAtt` may ask for. */
interface StandIn {
  Ref?: (r: Resource) => string;
  GetAtt?: Record<string, (r: Resource) => string>;
}

/** `JobWaitsTable` → `job-waits` with `suffix` Table: the logical id without its type's suffix, in kebab case. */
const kebab = localResourceName;

const arn = (r: Resource, service: string, rest: string, regional = true) =>
  `arn:${r.account.partition}:${service}:${regional ? r.account.region : ''}:${r.account.accountId}:${rest}`;

/**
 * The one table of stand-ins, keyed by CloudFormation Type. Tables are named as the demo account
 * creates them (local/seed.ts {@link localTableName}); the state machine is the one the local
 * runner executes (its executions' ARNs are built from the same {@link localStateMachineArn}).
 */
export const STAND_INS: Record<string, StandIn> = {
  'AWS::DynamoDB::Table': {
    Ref: (r) => localTableName(r.logicalId),
    GetAtt: { Arn: (r) => arn(r, 'dynamodb', `table/${localTableName(r.logicalId)}`) },
  },
  'AWS::StepFunctions::StateMachine': {
    Ref: (r) => localStateMachineArn(r.account.region),
    GetAtt: { Arn: (r) => localStateMachineArn(r.account.region), Name: (r) => localStateMachineArn(r.account.region).split(':').at(-1)! },
  },
  'AWS::SNS::Topic': {
    Ref: (r) => arn(r, 'sns', kebab(r.logicalId, 'Topic')),
    GetAtt: { TopicArn: (r) => arn(r, 'sns', kebab(r.logicalId, 'Topic')), TopicName: (r) => kebab(r.logicalId, 'Topic') },
  },
  'AWS::SQS::Queue': {
    Ref: (r) => `https://sqs.${r.account.region}.amazonaws.com/${r.account.accountId}/${kebab(r.logicalId, 'Queue')}`,
    GetAtt: { Arn: (r) => arn(r, 'sqs', kebab(r.logicalId, 'Queue')), QueueName: (r) => kebab(r.logicalId, 'Queue') },
  },
  'AWS::IAM::Role': {
    Ref: (r) => kebab(r.logicalId, 'Role'),
    GetAtt: { Arn: (r) => arn(r, 'iam', `role/${kebab(r.logicalId, 'Role')}`, false) },
  },
  // Named by the function key, as the local runner's Lambda context names them (local/workflow.ts).
  'AWS::Lambda::Function': {
    Ref: (r) => r.functionKey ?? kebab(r.logicalId, 'LambdaFunction'),
    GetAtt: { Arn: (r) => arn(r, 'lambda', `function:${r.functionKey ?? kebab(r.logicalId, 'LambdaFunction')}`) },
  },
};

/** The pseudo parameters a `Ref` may name, locally. */
const PSEUDO: Record<string, (a: Required<LocalAccount>) => string> = {
  'AWS::AccountId': (a) => a.accountId,
  'AWS::Region': (a) => a.region,
  'AWS::Partition': (a) => a.partition,
  'AWS::URLSuffix': (a) => (a.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'),
};

/** A resource's logical id, and what it is (a function key for the Framework's Lambda functions). */
export interface StackResource {
  type: string;
  functionKey?: string;
}

/** The Framework's logical id of a function (osls naming: `validate-network` → `ValidateDashnetworkLambdaFunction`). */
export function lambdaLogicalId(functionKey: string): string {
  const normalized = functionKey.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized.charAt(0).toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}

/**
 * Every resource a function environment may name, by logical id: `resources.Resources` with their
 * `Type`, the state machines of `stepFunctions.stateMachines` that set an `id`, and the functions.
 */
export function stackResources(config: Config = loadServerlessConfig()): Record<string, StackResource> {
  const out: Record<string, StackResource> = {};
  const declared = ((config.resources as { Resources?: Record<string, { Type?: unknown }> } | undefined)?.Resources ?? {}) as Record<string, { Type?: unknown }>;
  for (const [id, resource] of Object.entries(declared)) {
    if (typeof resource?.Type === 'string') out[id] = { type: resource.Type };
  }
  const machines = ((config.stepFunctions as { stateMachines?: Record<string, { id?: unknown }> } | undefined)?.stateMachines ?? {}) as Record<string, { id?: unknown }>;
  for (const machine of Object.values(machines)) {
    if (typeof machine?.id === 'string') out[machine.id] = { type: 'AWS::StepFunctions::StateMachine' };
  }
  for (const key of Object.keys(config.functions ?? {})) out[lambdaLogicalId(key)] = { type: 'AWS::Lambda::Function', functionKey: key };
  return out;
}

/** Whether `value` is a CloudFormation intrinsic (`{ Ref }`, `{ 'Fn::…' }`) rather than text. */
export function isCfnValue(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}

/**
 * The local value of one CloudFormation value of serverless.yml (`where` names it in errors, e.g.
 * `functions.reaper.environment.REAPER_STATE_MACHINE_ARN`): a pseudo parameter's `Ref`, or a
 * resource's `Ref` or `Fn::GetAtt`, through {@link STAND_INS}. Throws naming the logical id when it is
 * no resource of serverless.yml, and naming the Type when that has no stand-in.
 */
export function resolveCfnValue(
  value: unknown,
  where: string,
  account: LocalAccount,
  resources: Record<string, StackResource> = stackResources(),
): string {
  const acct: Required<LocalAccount> = { accountId: account.accountId, region: account.region, partition: account.partition ?? 'aws' };
  if (!isCfnValue(value)) throw new Error(`${where}: ${JSON.stringify(value)} is not a CloudFormation value`);
  const [fn, arg] = Object.entries(value)[0]!;
  let logicalId: string;
  let attribute: string | undefined;
  if (fn === 'Ref') {
    if (typeof arg !== 'string') throw new Error(`${where}: !Ref takes a logical id, not ${JSON.stringify(arg)}`);
    if (Object.hasOwn(PSEUDO, arg)) return PSEUDO[arg]!(acct);
    if (arg.startsWith('AWS::')) throw new Error(`${where}: !Ref ${arg} is a pseudo parameter with no local stand-in (known: ${Object.keys(PSEUDO).join(', ')})`);
    logicalId = arg;
  } else if (fn === 'Fn::GetAtt') {
    const parts = typeof arg === 'string' ? arg.split(/\.(.*)/s).filter(Boolean) : Array.isArray(arg) ? arg.map(String) : [];
    if (parts.length !== 2) throw new Error(`${where}: !GetAtt ${JSON.stringify(arg)} is not <LogicalId>.<Attribute>`);
    [logicalId, attribute] = parts as [string, string];
  } else {
    throw new Error(`${where}: ${fn} has no local stand-in (only Ref and Fn::GetAtt are resolved; local/cfn-values.ts)`);
  }
  const shown = attribute === undefined ? `!Ref ${logicalId}` : `!GetAtt ${logicalId}.${attribute}`;
  if (!Object.hasOwn(resources, logicalId)) {
    throw new Error(`${where}: ${shown} names ${logicalId}, which is no resource of serverless.yml (resources.Resources, stepFunctions.stateMachines ids, functions)`);
  }
  const { type, functionKey } = resources[logicalId]!;
  const standIn = Object.hasOwn(STAND_INS, type) ? STAND_INS[type]! : undefined;
  const make = attribute === undefined ? standIn?.Ref : standIn?.GetAtt && Object.hasOwn(standIn.GetAtt, attribute) ? standIn.GetAtt[attribute] : undefined;
  if (!make) {
    throw new Error(`${where}: ${shown}: ${logicalId} is an ${type}, whose ${attribute ?? 'Ref'} has no local stand-in (add it to STAND_INS in local/cfn-values.ts)`);
  }
  return make({ logicalId, account: acct, ...(functionKey ? { functionKey } : {}) });
}

/** Every CloudFormation value in the functions' `environment`s: function key, variable, value. */
export function environmentCfnValues(config: Config = loadServerlessConfig()): { functionKey: string; name: string; value: Record<string, unknown> }[] {
  return Object.entries(config.functions ?? {}).flatMap(([functionKey, fn]) =>
    Object.entries(fn.environment ?? {}).flatMap(([name, value]) => (isCfnValue(value) ? [{ functionKey, name, value }] : [])),
  );
}
