// Emulator tier: every SDK client the code under test creates reaches moto (AWS_ENDPOINT_URL), and
// every command sent is recorded (moto-global.ts checks that the Lambdas' commands were all sent).
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, inject } from 'vitest';
import '../../local/node20.js';

process.env.AWS_ENDPOINT_URL = inject('motoEndpoint');
// The policy leases table seedDemoAccount creates (serverless.yml's PolicyLeasesTable).
process.env.POLICY_LEASES_TABLE = 'policy-leases';
// The job ledger seedDemoAccount creates (serverless.yml's JobLedgerTable).
process.env.JOB_LEDGER_TABLE = 'job-ledger';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
process.env.AWS_LAMBDA_LOG_LEVEL = 'SILENT';

// All SDK v3 clients share one base class; its `send` sees every command of every service.
const base = Object.getPrototypeOf(EC2Client.prototype) as { send: (command: object, ...rest: unknown[]) => Promise<unknown> };
const send = base.send;
const sent = new Set<string>();
base.send = function recordingSend(this: unknown, command: object, ...rest: unknown[]) {
  sent.add(command.constructor.name);
  return send.call(this, command, ...rest);
};
afterAll(() => {
  writeFileSync(join(inject('commandsDir'), `${randomUUID()}.json`), JSON.stringify([...sent]));
});
