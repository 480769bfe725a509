/**
 * An account's custom models, custom model deployments and evaluation jobs, served on a mocked
 * BedrockClient (aws-sdk-client-mock) as Bedrock answers them: shapes of botocore 1.44.18's bedrock model
 * (GetCustomModelDeploymentResponse, GetCustomModelResponse with jobArn/jobName, GetEvaluationJobResponse
 * without a client request token), "not found" as ResourceNotFoundException, a stop of a job that is not
 * InProgress refused with ValidationException, ListCustomModelDeployments paged (`pageSize` per page with a
 * nextToken). For the reaper's and the janitor's tests; what is in it is whatever the test (or its
 * attacker) created.
 */
import {
  DeleteCustomModelDeploymentCommand,
  GetCustomModelCommand,
  GetCustomModelDeploymentCommand,
  GetEvaluationJobCommand,
  ListCustomModelDeploymentsCommand,
  ResourceNotFoundException,
  StopEvaluationJobCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import type { AwsStub } from 'aws-sdk-client-mock';

export const REGION = 'us-east-1';
export const ACCOUNT_ID = '123456789012';

export interface GateDeployment {
  arn: string;
  name: string;
  modelArn: string;
  status: 'Creating' | 'Active' | 'Failed';
  /** Tags anyone with TagResource could write: never read by the code under test. */
  tags?: Record<string, string>;
}
export interface GateEvaluationJob {
  arn: string;
  name: string;
  status: 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped' | 'Deleting';
}
export interface GateModel {
  arn: string;
  /** The customization job that made it (absent: a model no job made, e.g. a customer's import). */
  jobArn?: string;
  jobName?: string;
}

export interface GateAccount {
  deployments: Map<string, GateDeployment>;
  evaluationJobs: Map<string, GateEvaluationJob>;
  models: Map<string, GateModel>;
  /** Deployments listed per page. */
  pageSize: number;
}

let counter = 0;
const id12 = () => (++counter).toString(36).padStart(12, '0').slice(-12);

export const deploymentArn = (id = id12()) => `arn:aws:bedrock:${REGION}:${ACCOUNT_ID}:custom-model-deployment/${id}`;
export const evaluationJobArn = (id = id12()) => `arn:aws:bedrock:${REGION}:${ACCOUNT_ID}:evaluation-job/${id}`;
export const customModelArn = (id = id12()) => `arn:aws:bedrock:${REGION}:${ACCOUNT_ID}:custom-model/amazon.nova-micro-v1:0:128k/${id}`;
export const customizationJobArn = (id: string) => `arn:aws:bedrock:${REGION}:${ACCOUNT_ID}:model-customization-job/${id}`;

export function gateAccount(): GateAccount {
  return { deployments: new Map(), evaluationJobs: new Map(), models: new Map(), pageSize: 2 };
}

export function addModel(account: GateAccount, model: GateModel): GateModel {
  account.models.set(model.arn, model);
  return model;
}
export function addDeployment(account: GateAccount, deployment: Omit<GateDeployment, 'arn'> & { arn?: string }): GateDeployment {
  const full = { arn: deployment.arn ?? deploymentArn(), ...deployment } as GateDeployment;
  account.deployments.set(full.arn, full);
  return full;
}
export function addEvaluationJob(account: GateAccount, job: Omit<GateEvaluationJob, 'arn'> & { arn?: string }): GateEvaluationJob {
  const full = { arn: job.arn ?? evaluationJobArn(), ...job } as GateEvaluationJob;
  account.evaluationJobs.set(full.arn, full);
  return full;
}

const notFound = (what: string) => new ResourceNotFoundException({ message: `${what} not found`, $metadata: {} });

/** Serves `account` on `bedrock` (a mockClient(BedrockClient)); other commands are left as the test set them. */
export function serveGate(bedrock: AwsStub<any, any, any>, account: GateAccount): void {
  const deploymentBy = (identifier: string) =>
    account.deployments.get(identifier) ?? [...account.deployments.values()].find((d) => d.name === identifier);
  bedrock.on(GetCustomModelDeploymentCommand).callsFake(({ customModelDeploymentIdentifier }: { customModelDeploymentIdentifier: string }) => {
    const d = deploymentBy(customModelDeploymentIdentifier);
    if (!d) throw notFound('Deployment');
    return { customModelDeploymentArn: d.arn, modelDeploymentName: d.name, modelArn: d.modelArn, createdAt: new Date('2026-11-28T10:00:00Z'), status: d.status };
  });
  bedrock.on(DeleteCustomModelDeploymentCommand).callsFake(({ customModelDeploymentIdentifier }: { customModelDeploymentIdentifier: string }) => {
    const d = deploymentBy(customModelDeploymentIdentifier);
    if (!d) throw notFound('Deployment');
    account.deployments.delete(d.arn);
    return {};
  });
  bedrock.on(ListCustomModelDeploymentsCommand).callsFake(({ nextToken }: { nextToken?: string }) => {
    const all = [...account.deployments.values()];
    const start = nextToken ? Number(nextToken) : 0;
    const page = all.slice(start, start + account.pageSize);
    return {
      modelDeploymentSummaries: page.map((d) => ({
        customModelDeploymentArn: d.arn,
        customModelDeploymentName: d.name,
        modelArn: d.modelArn,
        createdAt: new Date('2026-11-28T10:00:00Z'),
        status: d.status,
      })),
      ...(start + account.pageSize < all.length ? { nextToken: String(start + account.pageSize) } : {}),
    };
  });
  bedrock.on(GetCustomModelCommand).callsFake(({ modelIdentifier }: { modelIdentifier: string }) => {
    const m = account.models.get(modelIdentifier);
    if (!m) throw notFound('Model');
    return {
      modelArn: m.arn,
      modelName: m.arn.split('/').at(-1),
      creationTime: new Date('2026-11-28T10:00:00Z'),
      ...(m.jobArn ? { jobArn: m.jobArn } : {}),
      ...(m.jobName ? { jobName: m.jobName } : {}),
    };
  });
  bedrock.on(GetEvaluationJobCommand).callsFake(({ jobIdentifier }: { jobIdentifier: string }) => {
    const j = account.evaluationJobs.get(jobIdentifier);
    if (!j) throw notFound('Evaluation job');
    return { jobName: j.name, status: j.status, jobArn: j.arn, roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/bedrock`, jobType: 'Automated', creationTime: new Date() };
  });
  bedrock.on(StopEvaluationJobCommand).callsFake(({ jobIdentifier }: { jobIdentifier: string }) => {
    const j = account.evaluationJobs.get(jobIdentifier);
    if (!j) throw notFound('Evaluation job');
    if (j.status !== 'InProgress') throw new ValidationException({ message: `The evaluation job is ${j.status}`, $metadata: {} });
    j.status = 'Stopping';
    return {};
  });
}
