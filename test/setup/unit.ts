// Unit and state-machine tiers: SDK matchers for aws-sdk-client-mock, Node 20 shims, and an
// environment the handlers can load with (no real endpoint: every client is mocked).
import 'aws-sdk-client-mock-vitest/extend';
import '../../local/node20.js';
import { TEST_STAGE_PARAMS, setStage } from '../fixtures/stage.js';

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
process.env.AWS_LAMBDA_LOG_LEVEL ??= 'SILENT';
// The policy leases table apply-policies needs (answered by test/support/mock-leases.ts).
process.env.POLICY_LEASES_TABLE ??= 'policy-leases';
// The job ledger (serverless.yml's JobLedgerTable; answered by test/support/mock-leases.ts, see test/support/ledger.ts).
process.env.JOB_LEDGER_TABLE ??= 'job-ledger';
// The stage (serverless.yml params as STAGE_* variables) the fixtures' jobs stay within.
setStage(TEST_STAGE_PARAMS);
