/**
 * The start every moto bench group shares: moto cleared and the demo account seeded into it, and (for
 * the groups that run the Lambdas in this process) the stage's environment as the local run deploys it:
 * serverless.yml's defaults over the demo account (local/stage-params.ts).
 */
import { resetMoto } from '../../local/moto.js';
import { clientsFor, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { functionEnvironment, resolveParams } from '../../local/stage-params.js';

/** Clears moto at `endpoint` and seeds the demo account; the clients talk to `endpoint`. */
export async function seedFreshDemo(endpoint: string, region: string): Promise<{ clients: ReturnType<typeof clientsFor>; account: DemoAccount }> {
  await resetMoto(endpoint);
  const clients = clientsFor(endpoint, region);
  const account = await seedDemoAccount(clients, region);
  return { clients, account };
}

/**
 * Sets this process's environment to the demo stage's (with `overrides` of its params) and points the
 * SDK at moto, so the Lambdas' handlers run here against it.
 */
export function useDemoStage(endpoint: string, region: string, account: DemoAccount, overrides: Record<string, string> = {}): void {
  const environment = functionEnvironment(resolveParams({ ...demoStageParams(account), ...overrides }), { accountId: account.accountId, region });
  Object.assign(process.env, environment, { AWS_ENDPOINT_URL: endpoint, AWS_REGION: region, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
}
