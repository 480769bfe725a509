/**
 * One SDK client per service, created once per Lambda container (module scope) and passed into the
 * step logic, so unit tests can replace them with `mockClient(...)`.
 *
 * Each is marked pure: a function's bundle keeps (and its cold start builds) only the clients it
 * imports, not all of them.
 *
 * The SDK reads `AWS_ENDPOINT_URL` by itself (the emulator tier and `npm run local` point it at moto).
 * S3 then needs path-style URLs: a bucket name cannot be a sub-domain of 127.0.0.1.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { NodeHttpHandler } from '@smithy/node-http-handler';

// Standard retry mode with backoff and jitter; throttling is retried by the SDK itself. (Literal
// options, no spreads: esbuild keeps a pure call whose arguments it cannot prove side-effect free.)
export const ec2 = /* @__PURE__ */ new EC2Client({ maxAttempts: 5, retryMode: 'standard' });
export const bedrock = /* @__PURE__ */ new BedrockClient({ maxAttempts: 5, retryMode: 'standard' });
/**
 * Bedrock's runtime, for the evaluation gate's Converse calls (the custom model's deployment and its base
 * model answer the held-out prompts). Locally it reaches the Bedrock stand-in through AWS_ENDPOINT_URL too.
 */
export const bedrockRuntime = /* @__PURE__ */ new BedrockRuntimeClient({
  maxAttempts: 5,
  retryMode: 'standard',
  // HTTP/1.1, like every other client here: the runtime client's default handler speaks HTTP/2, which the local
  // emulator's server does not; Converse is a plain request/response call, served over HTTP/1.1 by AWS too.
  requestHandler: /* @__PURE__ */ new NodeHttpHandler(),
});
export const iam = /* @__PURE__ */ new IAMClient({ maxAttempts: 5, retryMode: 'standard' });
/** Lambda, for the preflight's reads of an RFT job's grader function (never an invocation). */
export const lambda = /* @__PURE__ */ new LambdaClient({ maxAttempts: 5, retryMode: 'standard' });
const forcePathStyle = Boolean(process.env.AWS_ENDPOINT_URL);
export const s3 = /* @__PURE__ */ new S3Client({ maxAttempts: 5, retryMode: 'standard', forcePathStyle });

/**
 * The janitor's clients: adaptive retry adds client-side rate limiting to the backoff, for the
 * `RequestLimitExceeded` bursts of thousands of deletions.
 */
export const janitorEc2 = /* @__PURE__ */ new EC2Client({ maxAttempts: 8, retryMode: 'adaptive' });
export const janitorBedrock = /* @__PURE__ */ new BedrockClient({ maxAttempts: 8, retryMode: 'adaptive' });
/** The janitor's reads of the job ledger (JobLedgerTable: the ENIs recorded while each job ran). */
export const janitorDynamodb = /* @__PURE__ */ new DynamoDBClient({ maxAttempts: 8, retryMode: 'adaptive' });
/** The policy leases table (apply-policies): locks and holds, a few items per document. */
export const dynamodb = /* @__PURE__ */ new DynamoDBClient({ maxAttempts: 5, retryMode: 'standard' });
/** Step Functions, for the reaper and notify (read executions of this state machine). */
export const sfn = /* @__PURE__ */ new SFNClient({ maxAttempts: 5, retryMode: 'standard' });
/** SNS, for notify (publishes one message per ended execution to the stack's topic). */
export const sns = /* @__PURE__ */ new SNSClient({ maxAttempts: 5, retryMode: 'standard' });
