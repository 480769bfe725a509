/**
 * One SDK client per service, created once per Lambda container (module scope) and passed into the
 * step logic, so unit tests can replace them with `mockClient(...)`.
 *
 * The SDK reads `AWS_ENDPOINT_URL` by itself (the emulator tier and `npm run local` point it at moto).
 * S3 then needs path-style URLs: a bucket name cannot be a sub-domain of 127.0.0.1.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';

/** Standard retry mode with backoff and jitter; throttling is retried by the SDK itself. */
const common = { maxAttempts: 5, retryMode: 'standard' } as const;

export const ec2 = new EC2Client(common);
export const bedrock = new BedrockClient(common);
export const iam = new IAMClient(common);
export const s3 = new S3Client({ ...common, forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) });
