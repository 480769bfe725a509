/**
 * Seeds a realistic demo account into the emulator: a VPC with DNS on, private subnets in three
 * Availability Zones on one route table, a security group whose members talk to each other, an S3
 * gateway endpoint on that route table, training and output buckets with a small JSONL dataset, the
 * Bedrock service role, and a few leftover network interfaces (another job's, an untagged one, an
 * attached one) that cleanup must leave alone. And what distillation and reinforcement fine-tuning
 * need (local/demo-customizations.ts): their datasets, a bucket of Bedrock invocation logs and, given a
 * Lambda client, the RFT grader Lambda; the demo stage params list these with the distillation teacher.
 * And what the evaluation gate needs (local/demo-evaluation.ts): its bucket with a held-out dataset, an
 * Amazon Nova Micro fine-tuning dataset, and the gate's stage params (`allow`).
 *
 * The network's ids are fixed ({@link DEMO_NETWORK}): examples/job-input.json names them, so the
 * example runs against every seeded account as shipped.
 */
import { randomInt } from 'node:crypto';
import {
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  AssociateRouteTableCommand,
  CreateNetworkInterfaceCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateModelCustomizationJobCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import { CreateBucketCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { accountOf } from '../functions/shared/arn.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../functions/shared/bedrock-enis.js';
import {
  DEMO_GRADER_HANDLER,
  DEMO_GRADER_RUNTIME,
  DEMO_GRADER_TIMEOUT_SECONDS,
  demoGraderZip,
  distillationDataset,
  invocationLogObjects,
  invocationLogPrefix,
  rftDataset,
} from './demo-customizations.js';
import { DEMO_EVALUATION_BUCKET, DEMO_HELD_OUT_KEY, DEMO_NOVA_TRAINING_KEY, demoEvaluationJobFields, demoEvaluationStageParams, heldOutDataset, novaTrainingDataset } from './demo-evaluation.js';
import type { TaskHandler } from './workflow.js';

export { DEMO_EVALUATION, DEMO_EVALUATION_BUCKET, DEMO_HELD_OUT_KEY, DEMO_HELD_OUT_NAME, DEMO_NOVA_TRAINING_KEY } from './demo-evaluation.js';

/**
 * The ids the demo account's network always has, and the moto seed that yields each. moto draws a new
 * resource's id from its own random generator, which `POST /moto-api/seed?a=N` seeds (moto's docs,
 * Recorder, "Deterministic Identifiers"; the route is moto/moto_api/_internal/urls.py): seeded right
 * before the create call, the VPC, a subnet, the security group or the endpoint gets the same id on
 * every run. moto 5.2.5 takes no chosen id for these EC2 resources (its `_custom_id_` tag,
 * moto/utilities/id_generator.py, reaches only resources built on that module, none of EC2's), so the
 * ids are moto's draws for these seeds, not placeholders. The seeding checks each id and names the
 * resource when a moto upgrade draws differently.
 */
export const DEMO_NETWORK = {
  vpcId: { seed: 1, id: 'vpc-4283fefc63f0cd0e8' },
  subnetIds: [
    { seed: 2, id: 'subnet-122b598615dcbe810' },
    { seed: 3, id: 'subnet-74bf20f876ffc474c' },
    { seed: 4, id: 'subnet-793cf4220c917b853' },
  ],
  securityGroupId: { seed: 5, id: 'sg-8b0e7153bf7c3706d' },
  endpointId: { seed: 6, id: 'vpce-2f8104fba08f6d368' },
} as const;

/** The demo account's buckets and Bedrock service role (examples/job-input.json names them too). */
export const DEMO_TRAINING_BUCKET = 'demo-training-bucket';
export const DEMO_OUTPUT_BUCKET = 'demo-output-bucket';
export const DEMO_ROLE_NAME = 'BedrockCustomizationRole';

/** The demo account's RFT grader Lambda and its execution role (examples/rft.json names the function's ARN). */
export const DEMO_GRADER_FUNCTION_NAME = 'rft-grader';
export const DEMO_GRADER_ROLE_NAME = 'rft-grader-execution';

/** The demo's datasets for distillation and RFT (keys in the training bucket; examples/distillation.json, examples/rft.json name them). */
export const DEMO_DISTILLATION_KEY = 'datasets/distillation-prompts.jsonl';
export const DEMO_RFT_KEY = 'datasets/rft-prompts.jsonl';

/**
 * The bucket Bedrock delivers the demo account's model invocation logs to (no key prefix), read by a
 * distillation job trained on them (examples/distillation-invocation-logs.json).
 */
export const DEMO_INVOCATION_LOG_BUCKET = 'demo-invocation-logs';

/**
 * The demo's distillation: Amazon Nova Pro teaches Amazon Nova Micro, a pair AWS lists for distillation
 * ("Supported models and Regions for Amazon Bedrock Model Distillation",
 * https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html, us-east-1),
 * by the ids that page writes (the teacher by its on-demand id, the student with its context length).
 * The teacher's response cap is the one of AWS's distillation request for the same student (AWS Machine
 * Learning Blog, "Optimize video semantic search intent with Amazon Nova Model Distillation on Amazon
 * Bedrock": https://aws.amazon.com/blogs/machine-learning/optimize-video-semantic-search-intent-with-amazon-nova-model-distillation-on-amazon-bedrock).
 */
export const DEMO_DISTILLATION = {
  baseModelIdentifier: 'amazon.nova-micro-v1:0:128k',
  teacherModelIdentifier: 'amazon.nova-pro-v1:0',
  maxResponseLengthForInference: 1000,
} as const;

/**
 * The demo's RFT: Amazon Nova 2 Lite, the model AWS lists for reinforcement fine-tuning, by the id of
 * AWS's sample request, with the hyper-parameters of that request ("Create a reinforcement fine-tuning
 * job", https://docs.aws.amazon.com/bedrock/latest/userguide/rft-submit-job.html, API tab).
 */
export const DEMO_RFT = {
  baseModelIdentifier: 'amazon.nova-2-lite-v1:0:256k',
  hyperParameters: {
    batchSize: 64,
    epochCount: 2,
    evalInterval: 10,
    inferenceMaxTokens: 8192,
    learningRate: 0.00001,
    maxPromptLength: 4096,
    reasoningEffort: 'high',
    trainingSamplePerPrompt: 4,
  },
} as const;

export interface DemoAccount {
  region: string;
  accountId: string;
  vpcId: string;
  subnetIds: string[];
  securityGroupId: string;
  routeTableId: string;
  endpointId: string;
  trainingBucket: string;
  outputBucket: string;
  /** Where Bedrock delivers the account's model invocation logs (DEMO_INVOCATION_LOG_BUCKET), and the S3 URI of its logs in this region. */
  invocationLogBucket: string;
  invocationLogS3Uri: string;
  /** The evaluation gate's bucket (DEMO_EVALUATION_BUCKET): the held-out dataset, later the gate's responses and results. */
  evaluationBucket: string;
  roleArn: string;
  /** The RFT grader Lambda's ARN (unqualified), when the account was seeded with a Lambda client. */
  graderLambdaArn?: string;
  /** ENIs seeded as leftovers: cleanup of a new job must not touch any of them. */
  leftoverEnis: { otherJobAvailable: string; otherJobInUse: string; untagged: string };
}

export interface SeedClients {
  ec2: EC2Client;
  s3: S3Client;
  iam: IAMClient;
  /** When given, the stack's policy leases table is created too (PolicyLeasesTable: {@link POLICY_LEASES_TABLE_NAME}). */
  dynamodb?: DynamoDBClient;
  /** When given, the RFT grader Lambda is created too ({@link DEMO_GRADER_FUNCTION_NAME}). */
  lambda?: LambdaClient;
}

/**
 * The local name of a DynamoDB table of serverless.yml: its logical id without `Table`, in kebab case
 * (`JobWaitsTable` → `job-waits`). The one rule for the demo account's tables (the constants below)
 * and for what `!Ref <table>` resolves to in the Lambdas' local environment (local/cfn-values.ts).
 */
export function localTableName(logicalId: string): string {
  return localResourceName(logicalId, 'Table');
}

/** `logicalId` without its type's `suffix`, in kebab case (`JobWaitsTable`, `Table` → `job-waits`): the local name of a stack resource. */
export function localResourceName(logicalId: string, suffix: string): string {
  const base = logicalId.endsWith(suffix) && logicalId !== suffix ? logicalId.slice(0, -suffix.length) : logicalId;
  return base
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/** The name the demo account's job-waits table has (serverless.yml's JobWaitsTable, locally): `job-waits`. */
export const JOB_WAITS_TABLE_NAME = localTableName('JobWaitsTable');

/** The name the demo account's policy leases table has (serverless.yml's PolicyLeasesTable, locally): `policy-leases`. */
export const POLICY_LEASES_TABLE_NAME = localTableName('PolicyLeasesTable');

/** The name the job ledger has locally (serverless.yml's JobLedgerTable): `job-ledger`. */
export const JOB_LEDGER_TABLE_NAME = localTableName('JobLedgerTable');

export function clientsFor(endpoint: string, region = 'us-east-1'): SeedClients {
  const common = { endpoint, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  return {
    ec2: new EC2Client(common),
    s3: new S3Client({ ...common, forcePathStyle: true }),
    iam: new IAMClient(common),
    dynamodb: new DynamoDBClient(common),
    lambda: new LambdaClient(common),
  };
}

const tags = (resourceType: string, entries: Record<string, string>) => [
  { ResourceType: resourceType as never, Tags: Object.entries(entries).map(([Key, Value]): Tag => ({ Key, Value })) },
];

export const DEMO_DATASET = [
  { prompt: 'How do I reset my password?', completion: 'Open Settings > Security and choose Reset password.' },
  { prompt: 'Where can I download my invoice?', completion: 'Invoices are under Billing > History.' },
  { prompt: 'How do I contact support?', completion: 'Use the Help button or write to support.' },
]
  .map((line) => JSON.stringify(line))
  .join('\n');

/** The URL of the emulator `ec2` reaches (the demo account is only ever seeded into one). */
async function emulatorUrl(ec2: EC2Client): Promise<string> {
  const endpoint = await ec2.config.endpoint?.();
  if (!endpoint) throw new Error('seedDemoAccount seeds an emulator: its EC2 client needs an endpoint');
  return `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}`;
}

/**
 * Creates one resource of {@link DEMO_NETWORK} with its fixed id: seeds moto's generator with `fixed.seed`
 * right before `create` and checks the id it returns.
 */
async function withFixedId(url: string, what: string, fixed: { seed: number; id: string }, create: () => Promise<string>): Promise<string> {
  const res = await fetch(`${url}/moto-api/seed?a=${fixed.seed}`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto refused POST /moto-api/seed (${res.status})`);
  const id = await create();
  if (id !== fixed.id) {
    throw new Error(`moto gave the demo ${what} the id ${id}, not ${fixed.id} (local/seed.ts DEMO_NETWORK, examples/job-input.json): its seeded ids changed`);
  }
  return id;
}

export async function seedDemoAccount(clients: SeedClients, region = 'us-east-1'): Promise<DemoAccount> {
  if (clients.dynamodb) {
    await createLeasesTable(clients.dynamodb);
    await createJobWaitsTable(clients.dynamodb);
    await createJobLedgerTable(clients.dynamodb);
  }
  const { ec2, s3, iam } = clients;
  const url = await emulatorUrl(ec2);
  // The region's EC2 backend (its default VPC draws ids too) exists before the first seeded draw.
  await ec2.send(new DescribeVpcsCommand({ MaxResults: 5 }));
  const vpcId = await withFixedId(url, 'VPC', DEMO_NETWORK.vpcId, async () => {
    const vpc = await ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.42.0.0/16', TagSpecifications: tags('vpc', { Name: 'bedrock-customization-demo' }) }),
    );
    return vpc.Vpc!.VpcId!;
  });
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: true } }));
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));

  const routeTable = await ec2.send(
    new CreateRouteTableCommand({ VpcId: vpcId, TagSpecifications: tags('route-table', { Name: 'private' }) }),
  );
  const routeTableId = routeTable.RouteTable!.RouteTableId!;
  const subnetIds: string[] = [];
  for (const [i, az] of ['a', 'b', 'c'].entries()) {
    const subnetId = await withFixedId(url, `subnet private-${az}`, DEMO_NETWORK.subnetIds[i]!, async () => {
      const subnet = await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: `10.42.${i + 1}.0/24`,
          AvailabilityZone: `${region}${az}`,
          TagSpecifications: tags('subnet', { Name: `private-${az}` }),
        }),
      );
      return subnet.Subnet!.SubnetId!;
    });
    subnetIds.push(subnetId);
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetId }));
  }

  const securityGroupId = await withFixedId(url, 'security group', DEMO_NETWORK.securityGroupId, async () => {
    const group = await ec2.send(
      new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'bedrock-customization', Description: 'Bedrock customization jobs' }),
    );
    return group.GroupId!;
  });
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: securityGroupId,
      IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: securityGroupId }] }],
    }),
  );

  const endpointId = await withFixedId(url, 'S3 gateway endpoint', DEMO_NETWORK.endpointId, async () => {
    const endpoint = await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpcId,
        VpcEndpointType: 'Gateway',
        ServiceName: `com.amazonaws.${region}.s3`,
        RouteTableIds: [routeTableId],
      }),
    );
    return endpoint.VpcEndpoint!.VpcEndpointId!;
  });
  // Every other id (route tables, network interfaces, jobs) is drawn at random again, as AWS draws it.
  const reseed = await fetch(`${url}/moto-api/seed?a=${randomInt(2 ** 31)}`, { method: 'POST' });
  if (!reseed.ok) throw new Error(`moto refused POST /moto-api/seed (${reseed.status})`);

  const trainingBucket = DEMO_TRAINING_BUCKET;
  const outputBucket = DEMO_OUTPUT_BUCKET;
  const invocationLogBucket = DEMO_INVOCATION_LOG_BUCKET;
  const evaluationBucket = DEMO_EVALUATION_BUCKET;
  for (const bucket of [trainingBucket, outputBucket, invocationLogBucket, evaluationBucket]) {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
    );
  }
  await s3.send(new PutObjectCommand({ Bucket: trainingBucket, Key: 'datasets/support.jsonl', Body: DEMO_DATASET }));
  await s3.send(new PutObjectCommand({ Bucket: trainingBucket, Key: 'datasets/support-validation.jsonl', Body: DEMO_DATASET }));
  await s3.send(new PutObjectCommand({ Bucket: trainingBucket, Key: DEMO_DISTILLATION_KEY, Body: distillationDataset() }));
  await s3.send(new PutObjectCommand({ Bucket: trainingBucket, Key: DEMO_RFT_KEY, Body: rftDataset() }));
  await s3.send(new PutObjectCommand({ Bucket: trainingBucket, Key: DEMO_NOVA_TRAINING_KEY, Body: novaTrainingDataset() }));
  await s3.send(new PutObjectCommand({ Bucket: evaluationBucket, Key: DEMO_HELD_OUT_KEY, Body: heldOutDataset() }));

  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: DEMO_ROLE_NAME,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  const roleArn = role.Role!.Arn!;
  const accountId = accountOf(roleArn);
  const graderLambdaArn = clients.lambda ? await createGrader(clients.lambda, iam) : undefined;
  await seedInvocationLogs(s3, invocationLogBucket, accountId, region);

  // Leftovers from an earlier job, as Bedrock would have tagged them.
  const oldJobArn = `arn:aws:bedrock:${region}:${accountId}:model-customization-job/old-job`;
  const eni = async (subnetId: string, entries: Record<string, string>) =>
    (
      await ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: subnetId,
          Groups: [securityGroupId],
          ...(Object.keys(entries).length ? { TagSpecifications: tags('network-interface', entries) } : {}),
        }),
      )
    ).NetworkInterface!.NetworkInterfaceId!;
  const bedrockTags = { [BEDROCK_MANAGED_TAG]: 'true', [BEDROCK_JOB_ARN_TAG]: oldJobArn };
  const otherJobAvailable = await eni(subnetIds[0]!, bedrockTags);
  const otherJobInUse = await eni(subnetIds[1]!, bedrockTags);
  const untagged = await eni(subnetIds[2]!, {});
  const instance = await ec2.send(
    new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SubnetId: subnetIds[1]! }),
  );
  await ec2.send(
    new AttachNetworkInterfaceCommand({
      NetworkInterfaceId: otherJobInUse,
      InstanceId: instance.Instances![0]!.InstanceId!,
      DeviceIndex: 1,
    }),
  );

  return {
    region,
    accountId,
    vpcId,
    subnetIds,
    securityGroupId,
    routeTableId,
    endpointId,
    trainingBucket,
    outputBucket,
    invocationLogBucket,
    invocationLogS3Uri: `s3://${invocationLogBucket}/${invocationLogPrefix(accountId, region)}`,
    evaluationBucket,
    roleArn,
    ...(graderLambdaArn ? { graderLambdaArn } : {}),
    leftoverEnis: { otherJobAvailable, otherJobInUse, untagged },
  };
}

/**
 * The invocation-log bucket as model invocation logging leaves it: the bucket policy that lets Bedrock
 * deliver the account's logs ("Set up an Amazon S3 destination",
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html, with no key
 * prefix) and the logs it delivered (local/demo-customizations.ts invocationLogObjects).
 */
async function seedInvocationLogs(s3: S3Client, bucket: string, accountId: string, region: string): Promise<void> {
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AmazonBedrockLogsWrite',
            Effect: 'Allow',
            Principal: { Service: 'bedrock.amazonaws.com' },
            Action: ['s3:PutObject'],
            Resource: [`arn:aws:s3:::${bucket}/AWSLogs/${accountId}/BedrockModelInvocationLogs/*`],
            Condition: { StringEquals: { 'aws:SourceAccount': accountId }, ArnLike: { 'aws:SourceArn': `arn:aws:bedrock:${region}:${accountId}:*` } },
          },
        ],
      }),
    }),
  );
  for (const { key, body } of invocationLogObjects(accountId, region)) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', ContentEncoding: 'gzip' }));
  }
}

/**
 * The RFT grader: its execution role (trusting Lambda; the grader calls no other service) and the
 * function (local/demo-customizations.ts). No resource policy: the Bedrock role's own
 * lambda:InvokeFunction grant is what AWS documents for a grader of the job's account ("Lambda
 * permissions for reward functions", https://docs.aws.amazon.com/bedrock/latest/userguide/rft-access-security.html),
 * and the workflow grants it for the job's duration. moto creates the function without running it.
 */
async function createGrader(lambda: LambdaClient, iam: IAMClient): Promise<string> {
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: DEMO_GRADER_ROLE_NAME,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  const fn = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: DEMO_GRADER_FUNCTION_NAME,
      Description: 'Reward function (grader) of the demo RFT job',
      Runtime: DEMO_GRADER_RUNTIME,
      Handler: DEMO_GRADER_HANDLER,
      Role: role.Role!.Arn!,
      Code: { ZipFile: demoGraderZip() },
      Timeout: DEMO_GRADER_TIMEOUT_SECONDS,
    }),
  );
  return fn.FunctionArn!;
}

/**
 * The demo's Amazon Nova Micro fine-tuning job asking for the evaluation gate (local/demo-evaluation.ts;
 * `npm run local -- --scenario promote|reject`, examples/evaluation.json), `overrides` laid over it.
 */
export function demoEvaluationJobInput(account: DemoAccount, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return demoJobInput(account, { ...demoEvaluationJobFields(account.trainingBucket), ...overrides });
}

/**
 * A job input for the demo account (the shape of docs/configuration.md "The job input"), for the
 * customization type `overrides` names (default FINE_TUNING): each type's model, dataset and settings
 * ({@link DEMO_DISTILLATION}, {@link DEMO_RFT}), then `overrides` laid over them.
 */
export function demoJobInput(account: DemoAccount, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const common = {
    roleArn: account.roleArn,
    outputDataS3Uri: `s3://${account.outputBucket}/runs/`,
    vpcConfig: { vpcId: account.vpcId, subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] },
    jobTags: { team: 'ml' },
  };
  const type = overrides.customizationType;
  if (type === 'DISTILLATION') {
    return {
      baseModelIdentifier: DEMO_DISTILLATION.baseModelIdentifier,
      customizationType: 'DISTILLATION',
      ...common,
      // A dataset file, unless the job trains on invocation logs.
      ...(overrides.invocationLogsConfig === undefined ? { trainingDataS3Uri: `s3://${account.trainingBucket}/${DEMO_DISTILLATION_KEY}` } : {}),
      customizationConfig: {
        distillationConfig: {
          teacherModelConfig: { teacherModelIdentifier: DEMO_DISTILLATION.teacherModelIdentifier, maxResponseLengthForInference: DEMO_DISTILLATION.maxResponseLengthForInference },
        },
      },
      ...overrides,
    };
  }
  if (type === 'REINFORCEMENT_FINE_TUNING') {
    return {
      baseModelIdentifier: DEMO_RFT.baseModelIdentifier,
      customizationType: 'REINFORCEMENT_FINE_TUNING',
      ...common,
      ...(overrides.invocationLogsConfig === undefined ? { trainingDataS3Uri: `s3://${account.trainingBucket}/${DEMO_RFT_KEY}` } : {}),
      customizationConfig: {
        rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: demoGraderArn(account) } }, hyperParameters: { ...DEMO_RFT.hyperParameters } },
      },
      ...overrides,
    };
  }
  return {
    baseModelIdentifier: 'amazon.titan-text-express-v1',
    customizationType: 'FINE_TUNING',
    ...common,
    trainingDataS3Uri: `s3://${account.trainingBucket}/datasets/support.jsonl`,
    validationDataS3Uris: [`s3://${account.trainingBucket}/datasets/support-validation.jsonl`],
    hyperParameters: { epochCount: '2', batchSize: '1', learningRate: '0.00001' },
    ...overrides,
  };
}

/** The demo grader's ARN: the one seeded, or (an account seeded without a Lambda client) the ARN it would have. */
export function demoGraderArn(account: Pick<DemoAccount, 'graderLambdaArn' | 'region' | 'accountId'>): string {
  return account.graderLambdaArn ?? `arn:aws:lambda:${account.region}:${account.accountId}:function:${DEMO_GRADER_FUNCTION_NAME}`;
}

/**
 * The stage params (serverless.yml `params` names) of a deployment into the demo account: its VPC,
 * subnets, security group, role, buckets and S3 gateway endpoint, the distillation teacher
 * ({@link DEMO_DISTILLATION}), the invocation-log bucket, when seeded the RFT grader, and the evaluation
 * gate (`allow`: its bucket, held-out dataset, metrics, judge, prices and cost cap, local/demo-evaluation.ts);
 * policy settings as serverless.yml's defaults unless `overrides` says otherwise. What `npm run local` and the emulator tier deploy with.
 */
export function demoStageParams(account: DemoAccount, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    vpcId: account.vpcId,
    subnetIds: account.subnetIds.join(','),
    securityGroupIds: account.securityGroupId,
    bedrockRoleArn: account.roleArn,
    trainingBucket: account.trainingBucket,
    outputBucket: account.outputBucket,
    outputPrefix: 'runs/',
    s3EndpointIds: account.endpointId,
    teacherModelIdentifiers: DEMO_DISTILLATION.teacherModelIdentifier,
    invocationLogBuckets: account.invocationLogBucket,
    ...(account.graderLambdaArn ? { graderLambdaArns: account.graderLambdaArn } : {}),
    ...demoEvaluationStageParams(),
    ...overrides,
  };
}

/**
 * A customization job in the demo account (moto keeps it InProgress): its training data, output,
 * VPC (`subnetIds`, or none with `[]`) and job tags (e.g. the chain tag). Only tests call this.
 */
export async function createDemoJob(
  bedrock: BedrockClient,
  account: DemoAccount,
  name: string,
  options: {
    subnetIds?: string[];
    tags?: Record<string, string>;
    /** Also the demo's validation data, with the demo input's hyperparameters (a job as the workflow submits it). */
    asSubmitted?: boolean;
    /** The output key prefix under the output bucket (default `runs/`). */
    outputPrefix?: string;
  } = {},
): Promise<string> {
  const subnetIds = options.subnetIds ?? account.subnetIds;
  const out = await bedrock.send(
    new CreateModelCustomizationJobCommand({
      jobName: name,
      customModelName: `${name}-model`,
      roleArn: account.roleArn,
      baseModelIdentifier: 'amazon.titan-text-express-v1',
      trainingDataConfig: { s3Uri: `s3://${account.trainingBucket}/datasets/support.jsonl` },
      outputDataConfig: { s3Uri: `s3://${account.outputBucket}/${options.outputPrefix ?? 'runs/'}` },
      hyperParameters: options.asSubmitted ? { ...(demoJobInput(account).hyperParameters as Record<string, string>) } : {},
      ...(options.asSubmitted
        ? {
            customizationType: 'FINE_TUNING' as const,
            validationDataConfig: { validators: (demoJobInput(account).validationDataS3Uris as string[]).map((s3Uri) => ({ s3Uri })) },
          }
        : {}),
      ...(subnetIds.length ? { vpcConfig: { subnetIds, securityGroupIds: [account.securityGroupId] } } : {}),
      ...(options.tags ? { jobTags: Object.entries(options.tags).map(([key, value]) => ({ key, value })) } : {}),
    }),
  );
  return out.jobArn!;
}

/**
 * Stand-in for Bedrock, which moto does not emulate here: creates the network interfaces the service
 * would create for a running job, tagged as the service tags them. Only the local driver and tests
 * call this; the Lambdas never do.
 */
export async function createJobEnis(ec2: EC2Client, jobArn: string, subnetIds: string[], securityGroupIds: string[]) {
  const ids: string[] = [];
  for (const subnetId of subnetIds.slice(0, 2)) {
    const out = await ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnetId,
        Groups: securityGroupIds,
        Description: 'Stand-in for an ENI Amazon Bedrock creates for a customization job',
        TagSpecifications: tags('network-interface', { [BEDROCK_MANAGED_TAG]: 'true', [BEDROCK_JOB_ARN_TAG]: jobArn }),
      }),
    );
    ids.push(out.NetworkInterface!.NetworkInterfaceId!);
  }
  return ids;
}

/**
 * `submit` (the SubmitJob handler), then {@link createJobEnis} for the job it submitted, in the subnets
 * and security groups of the job's VPC config; `onCreated` sees the ENIs' ids.
 */
export function withJobEnis(submit: TaskHandler, ec2: EC2Client, onCreated?: (ids: string[]) => void): TaskHandler {
  return async (input) => {
    const out = await submit(input);
    const job = (input as { job: { vpcConfig: { subnetIds: string[]; securityGroupIds: string[] } } }).job;
    const ids = await createJobEnis(ec2, (out as { jobArn: string }).jobArn, job.vpcConfig.subnetIds, job.vpcConfig.securityGroupIds);
    onCreated?.(ids);
    return out;
  };
}

/**
 * Creates an on-demand table with the key (`pk`, and `sk` when given) and the TTL attribute of its
 * serverless.yml declaration. The stack creates the tables; `npm run local` and the tests create them here.
 */
async function createTable(dynamodb: DynamoDBClient, tableName: string, rangeKey: boolean, ttlAttribute: string): Promise<string> {
  const keys = rangeKey ? (['pk', 'sk'] as const) : (['pk'] as const);
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: keys.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
      KeySchema: keys.map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? ('HASH' as const) : ('RANGE' as const) })),
    }),
  );
  await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }));
  return tableName;
}

/** The policy leases table, as serverless.yml declares it (PolicyLeasesTable): key `pk` + `sk`, TTL on `expiresAt`. */
export function createLeasesTable(dynamodb: DynamoDBClient, tableName = POLICY_LEASES_TABLE_NAME): Promise<string> {
  return createTable(dynamodb, tableName, true, 'expiresAt');
}

/** The job-waits table, as serverless.yml declares it (JobWaitsTable): key `pk` (the job ARN), TTL on `ttl`. */
export function createJobWaitsTable(dynamodb: DynamoDBClient, tableName = JOB_WAITS_TABLE_NAME): Promise<string> {
  return createTable(dynamodb, tableName, false, 'ttl');
}

/** The job ledger, as serverless.yml declares it (JobLedgerTable): key `pk` (the job name), TTL on `expiresAt`. */
export function createJobLedgerTable(dynamodb: DynamoDBClient, tableName = JOB_LEDGER_TABLE_NAME): Promise<string> {
  return createTable(dynamodb, tableName, false, 'expiresAt');
}

/** The execution that "ran" a demo job in tests: the owner and supervisor of its ledger entry. */
export const DEMO_EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-local-customize-model:demo-run';

/**
 * Records a demo job (created with {@link createDemoJob}) in the job ledger as the workflow would: the
 * name reserved by `owner` (its supervisor), then the job recorded, then `enis` seen while it ran.
 * Through the real ledger functions (functions/shared/ledger.ts), never by writing items by hand.
 */
export async function recordDemoJob(
  dynamodb: DynamoDBClient,
  account: DemoAccount,
  jobName: string,
  jobArn: string,
  options: { owner?: string; enis?: string[]; table?: string } = {},
): Promise<void> {
  const { dynamoLedger } = await import('../functions/shared/ledger.js');
  const ledger = dynamoLedger(options.table ?? JOB_LEDGER_TABLE_NAME, { dynamodb, now: () => new Date() });
  const owner = options.owner ?? DEMO_EXECUTION_ARN;
  const network = { vpcId: account.vpcId, subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] };
  await ledger.reserve({ jobName, owner, clientRequestToken: `${jobName}-token`, network, maxJobDurationSeconds: 86_400 });
  await ledger.recordSubmission(jobName, owner, { jobArn, submittedAt: new Date().toISOString(), deadline: new Date(Date.now() + 86_400_000).toISOString() });
  if (options.enis?.length) await ledger.recordEnis(jobName, owner, options.enis);
}
