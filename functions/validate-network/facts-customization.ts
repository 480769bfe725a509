/**
 * Reads what the preflight checks about the resources a distillation or reinforcement fine-tuning job
 * names besides its network: the RFT grader Lambda (its configuration and resource policy), the
 * distillation teacher model, and the invocation-log source. One to two calls each, only for the jobs
 * that name them. Nothing here decides pass or fail: see checks-customization.ts.
 */
import { GetFoundationModelCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import { GetFunctionCommand, GetPolicyCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { buildArn, parseArn } from '../shared/arn.js';
import { awsErrorCode, httpStatus, isAwsError } from '../shared/aws-errors.js';
import { describeError } from '../shared/errors.js';
import { graderLambdaArnOf, teacherModelOf, type JobInput } from '../shared/job-input.js';
import { parsePolicy, type PolicyDocument } from '../shared/policies/document.js';
import { teacherProfileOf } from '../shared/policies/role.js';
import { counted, type CallTally } from '../shared/sdk.js';

/** What the preflight read of the grader Lambda an RFT job names. */
export interface GraderFacts {
  /** The ARN as the job names it (unqualified, or with a version or alias). */
  arn: string;
  /** The function's ARN without a qualifier. */
  functionArn: string;
  qualifier?: string;
  region: string;
  accountId: string;
  /**
   * found / missing (Lambda's ResourceNotFoundException: no such function, version or alias) / unknown
   * (another error, `error`) / elsewhere (another account or region than the job's: not looked up).
   */
  status: 'found' | 'missing' | 'unknown' | 'elsewhere';
  error?: string;
  /** FunctionConfiguration.Timeout (seconds). */
  timeoutSeconds?: number;
  /** FunctionConfiguration.State and StateReason (Pending | Active | Inactive | Failed). */
  state?: string;
  stateReason?: string;
  /**
   * GetFunction's Concurrency.ReservedConcurrentExecutions; undefined: no reserved concurrency, or (with a
   * qualifier, for which GetFunction answers no Concurrency) not reported.
   */
  reservedConcurrency?: number;
  /** The function's (or the version's or alias's) resource policy; null: it has none. Undefined with `policyError`. */
  policy?: PolicyDocument | null;
  policyError?: string;
}

/** What the preflight read of a distillation job's teacher model. */
export interface TeacherFacts {
  identifier: string;
  /**
   * found / missing (ResourceNotFoundException) / unknown (another error) / profile (an inference
   * profile ARN: GetFoundationModel does not describe it, so it is not looked up).
   */
  status: 'found' | 'missing' | 'unknown' | 'profile';
  /** FoundationModelDetails.modelLifecycle.status: ACTIVE | LEGACY. */
  lifecycle?: string;
  error?: string;
}

/** Whether the invocation-log source holds any object. */
export interface InvocationLogFacts {
  uri: string;
  bucket: string;
  status: 'found' | 'missing' | 'unknown';
  error?: string;
}

export interface CustomizationFacts {
  grader?: GraderFacts;
  teacher?: TeacherFacts;
  invocationLogs?: InvocationLogFacts;
}

export interface CustomizationDeps {
  lambda: LambdaClient;
  bedrock: BedrockClient;
  s3: S3Client;
}

/** Reads the grader, the teacher and the invocation-log source the job names (none: no call). */
export async function gatherCustomizationFacts(job: JobInput, deps: CustomizationDeps, calls: CallTally): Promise<CustomizationFacts> {
  const graderArn = graderLambdaArnOf(job);
  const teacher = teacherModelOf(job);
  const logs = job.invocationLogsConfig && job.s3.invocationLogs;
  const [graderFacts, teacherFacts, logFacts] = await Promise.all([
    graderArn === undefined ? undefined : readGrader(graderArn, job, deps.lambda, calls),
    teacher === undefined ? undefined : readFoundationModel(teacher, job, deps.bedrock, calls),
    logs ? readInvocationLogs(job.invocationLogsConfig!.invocationLogSource.s3Uri, logs, deps.s3, calls) : undefined,
  ]);
  return {
    ...(graderFacts ? { grader: graderFacts } : {}),
    ...(teacherFacts ? { teacher: teacherFacts } : {}),
    ...(logFacts ? { invocationLogs: logFacts } : {}),
  };
}

/** `arn:…:function:name[:qualifier]` → its parts (the SDK's ARN parser; the resource split on `:`). */
export function parseLambdaArn(arn: string): { functionArn: string; name: string; qualifier?: string; region: string; accountId: string } {
  const parsed = parseArn(arn);
  const [, name, qualifier] = parsed.resource.split(':');
  return {
    functionArn: buildArn({ ...parsed, resource: `function:${name}` }),
    name: name!,
    ...(qualifier ? { qualifier } : {}),
    region: parsed.region,
    accountId: parsed.accountId,
  };
}

/**
 * GetFunction (the version's or alias's configuration, and the function's reserved concurrency: the
 * Lambda API Reference, PutFunctionConcurrency: "Use GetFunction to see the current setting for a
 * function") and GetPolicy (its resource policy) with the job's qualifier, so the calls name exactly the
 * ARN the stage lists (param graderLambdaArns) and the workflow's role needs no other. (GetFunction also
 * answers a link to the function's code, which is not followed; GetFunctionConfiguration with
 * GetFunctionConcurrency would avoid it, but GetFunctionConcurrency takes the unqualified function, an
 * ARN the role's statement cannot derive from a qualified entry of the param.) A grader of another
 * account or region is not looked up at all.
 */
async function readGrader(arn: string, job: JobInput, lambda: LambdaClient, calls: CallTally): Promise<GraderFacts> {
  const { functionArn, qualifier, region, accountId } = parseLambdaArn(arn);
  const base = { arn, functionArn, ...(qualifier ? { qualifier } : {}), region, accountId };
  if (region !== job.region || accountId !== job.accountId) return { ...base, status: 'elsewhere' };
  const target = { FunctionName: functionArn, ...(qualifier ? { Qualifier: qualifier } : {}) };
  const notFound = (err: unknown) => isAwsError(err, 'ResourceNotFoundException') || httpStatus(err) === 404;
  const [fn, policy] = await Promise.all([
    lambda.send(counted(calls, 'lambda', new GetFunctionCommand(target))).then(
      (out) => ({ ok: true as const, out }),
      (err: unknown) => ({ ok: false as const, err }),
    ),
    lambda.send(counted(calls, 'lambda', new GetPolicyCommand(target))).then(
      (out) => ({ ok: true as const, text: out.Policy }),
      (err: unknown) => ({ ok: false as const, err }),
    ),
  ]);
  if (!fn.ok) {
    if (notFound(fn.err)) return { ...base, status: 'missing' };
    if (awsErrorCode(fn.err) === undefined) throw fn.err;
    return { ...base, status: 'unknown', error: httpStatus(fn.err) === 403 ? 'access denied' : describeError(fn.err) };
  }
  const config = fn.out.Configuration;
  const reserved = fn.out.Concurrency?.ReservedConcurrentExecutions;
  let policyFacts: Pick<GraderFacts, 'policy' | 'policyError'>;
  if (policy.ok) {
    try {
      policyFacts = { policy: parsePolicy(policy.text) };
    } catch {
      policyFacts = { policyError: 'the resource policy is not valid JSON' };
    }
  } else if (notFound(policy.err)) {
    // GetPolicy answers ResourceNotFoundException for a function without a resource policy.
    policyFacts = { policy: null };
  } else {
    if (awsErrorCode(policy.err) === undefined) throw policy.err;
    policyFacts = { policyError: httpStatus(policy.err) === 403 ? 'access denied' : describeError(policy.err) };
  }
  return {
    ...base,
    status: 'found',
    ...(config?.Timeout !== undefined ? { timeoutSeconds: config.Timeout } : {}),
    ...(config?.State ? { state: config.State } : {}),
    ...(config?.StateReason ? { stateReason: config.StateReason } : {}),
    ...(reserved !== undefined ? { reservedConcurrency: reserved } : {}),
    ...policyFacts,
  };
}

/**
 * GetFoundationModel: the model exists in the region, and its lifecycle status. An inference profile
 * (by ARN or id, as policies/role.ts teacherProfileOf tells them) is not a foundation model: not looked up.
 * A distillation job's teacher, and the evaluation gate's judge (facts-evaluation.ts).
 */
export async function readFoundationModel(identifier: string, job: JobInput, bedrock: BedrockClient, calls: CallTally): Promise<TeacherFacts> {
  if (teacherProfileOf(identifier, job)) return { identifier, status: 'profile' };
  try {
    const out = await bedrock.send(counted(calls, 'bedrock', new GetFoundationModelCommand({ modelIdentifier: identifier })));
    const lifecycle = out.modelDetails?.modelLifecycle?.status;
    return { identifier, status: 'found', ...(lifecycle ? { lifecycle } : {}) };
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException') || httpStatus(err) === 404) return { identifier, status: 'missing' };
    if (awsErrorCode(err) === undefined) throw err;
    return { identifier, status: 'unknown', error: httpStatus(err) === 403 ? 'access denied' : describeError(err) };
  }
}

/** Lists one key under the invocation-log prefix (s3:ListBucket; no object is read). */
async function readInvocationLogs(uri: string, { bucket, key }: { bucket: string; key: string }, s3: S3Client, calls: CallTally): Promise<InvocationLogFacts> {
  try {
    const out = await s3.send(counted(calls, 's3', new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 })));
    return { uri, bucket, status: (out.Contents?.length ?? 0) > 0 ? 'found' : 'missing' };
  } catch (err) {
    if (isAwsError(err, 'NoSuchBucket', 'NotFound') || httpStatus(err) === 404) return { uri, bucket, status: 'missing' };
    return { uri, bucket, status: 'unknown', error: httpStatus(err) === 403 ? 'access denied' : describeError(err) };
  }
}
