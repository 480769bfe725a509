/** SDK clients aimed at the emulator tier's moto server (for seeding and for asserting on its state). */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client as BaseProbe } from '@aws-sdk/client-ec2';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';

export function motoClients(region = 'us-east-1') {
  const common = { endpoint: inject('motoEndpoint'), region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  return {
    ec2: new EC2Client(common),
    s3: new S3Client({ ...common, forcePathStyle: true }),
    iam: new IAMClient(common),
    bedrock: new BedrockClient(common),
    lambda: new LambdaClient(common),
    dynamodb: new DynamoDBClient(common),
  };
}

/**
 * The class names of the commands every SDK client sends while `fn` runs, in order: all SDK v3
 * clients share one base class whose `send` sees each command (as test/setup/emulator.ts records
 * them). The base `send` is restored afterwards, whatever `fn` does.
 */
export async function commandsSentDuring<T>(fn: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
  const base = Object.getPrototypeOf(BaseProbe.prototype) as { send: (command: object, ...rest: unknown[]) => Promise<unknown> };
  const original = base.send;
  const sent: string[] = [];
  base.send = function recording(this: unknown, command: object, ...rest: unknown[]) {
    sent.push(command.constructor.name);
    return original.call(this, command, ...rest);
  };
  try {
    return { result: await fn(), sent };
  } finally {
    base.send = original;
  }
}

/** Clears moto (every service, every region). */
export async function resetMoto(): Promise<void> {
  const res = await fetch(`${inject('motoEndpoint')}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
}
