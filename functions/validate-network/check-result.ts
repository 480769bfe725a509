/**
 * What a preflight check returns, the stable check ids (docs/checks.md), and the tunables.
 * Each check has an id, a severity, the resource it concerns, a message and, when it did not pass,
 * a remedy a person can act on.
 */

export type Severity = 'fail' | 'warn' | 'info';

/** One check's outcome. `severity` is how bad it is when `passed` is false. */
export interface CheckResult {
  id: string;
  passed: boolean;
  severity: Severity;
  resource: string;
  message: string;
  remedy?: string;
}

/** Tunables of the preflight. */
export interface PreflightOptions {
  /** Free IP addresses a subnet needs for the job's network interfaces (default 4). */
  minFreeIpsPerSubnet?: number;
}

export const DEFAULT_MIN_FREE_IPS_PER_SUBNET = 4;

/** Check ids (stable: documented in docs/checks.md, used by tests and by people). */
export const CHECK = {
  vpcExists: 'vpc.exists',
  subnetExists: 'subnet.exists',
  subnetInVpc: 'subnet.in-vpc',
  securityGroupExists: 'security-group.exists',
  securityGroupInVpc: 'security-group.in-vpc',
  dnsSupport: 'vpc.dns-support',
  dnsHostnames: 'vpc.dns-hostnames',
  s3EndpointExists: 's3-endpoint.exists',
  s3EndpointAvailable: 's3-endpoint.available',
  s3EndpointRoute: 's3-endpoint.route',
  s3EndpointPolicy: 's3-endpoint.policy',
  azCount: 'subnet.az-count',
  azMissed: 'subnet.az-missed',
  freeIps: 'subnet.free-ips',
  capacity: 'subnet.capacity',
  sgS3Egress: 'security-group.s3-egress',
  sgSelfIngress: 'security-group.self-ingress',
  sgSelfEgress: 'security-group.self-egress',
  internetRoute: 'route.internet',
  bucketExists: 'bucket.exists',
  bucketRegion: 'bucket.region',
  datasetExists: 'dataset.exists',
  roleExists: 'role.exists',
  roleTrust: 'role.trust',
  roleEni: 'role.eni-permissions',
  roleBuckets: 'role.bucket-access',
  customizationSupported: 'customization.supported',
  graderExists: 'grader.exists',
  graderInvoke: 'grader.invoke-permission',
  graderResourcePolicy: 'grader.resource-policy',
  graderTimeout: 'grader.timeout',
  graderConcurrency: 'grader.concurrency',
  teacherAvailable: 'teacher.available',
  invocationLogsExist: 'invocation-logs.exist',
  evaluationSupported: 'evaluation.supported',
  evaluationDatasetExists: 'evaluation.dataset-exists',
  evaluationRoleTrust: 'evaluation.role-trust',
  evaluationJudgeAvailable: 'evaluation.judge-available',
} as const;

/** A check that passed. */
export const pass = (id: string, severity: Severity, resource: string, message: string): CheckResult => ({
  id,
  passed: true,
  severity,
  resource,
  message,
});

/** A check that did not pass, with its remedy. */
export const flag = (id: string, severity: Severity, resource: string, message: string, remedy: string): CheckResult => ({
  id,
  passed: false,
  severity,
  resource,
  message,
  remedy,
});
