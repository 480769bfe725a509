/**
 * functions/shared/ids.ts: the AWS id formats. EC2 ids per the Amazon EC2 User Guide, "Resource IDs"
 * (prefix, hyphen, 8 or 17 characters); account ids 12 digits; Region codes as AWS General Reference
 * lists them.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import {
  ACCOUNT_ID,
  accountIdSchema,
  KMS_KEY_ARN,
  MAX_EC2_ID_LENGTH,
  PARTITION,
  PRINCIPAL_ARN,
  REGION,
  ROLE_ARN,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  VPC_ENDPOINT_ID,
  VPC_ID,
  vpcIdSchema,
} from '../../functions/shared/ids.js';

const EC2: [string, RegExp][] = [
  ['vpc', VPC_ID],
  ['subnet', SUBNET_ID],
  ['sg', SECURITY_GROUP_ID],
  ['vpce', VPC_ENDPOINT_ID],
];

describe('ids', () => {
  it('IAM role and principal ARNs: any partition, 12-digit account, a path of IAM name characters, no wildcard', () => {
    for (const arn of ['arn:aws:iam::123456789012:role/BedrockCustomizationRole', 'arn:aws-us-gov:iam::123456789012:role/service-role/a+b=c,d.e@f-g_h']) {
      expect(ROLE_ARN.test(arn), arn).toBe(true);
      expect(PRINCIPAL_ARN.test(arn), arn).toBe(true);
    }
    expect(PRINCIPAL_ARN.test('arn:aws:iam::123456789012:user/ops/alice')).toBe(true);
    expect(ROLE_ARN.test('arn:aws:iam::123456789012:user/ops/alice')).toBe(false);
    for (const arn of [
      'arn:aws:iam::123456789012:role/*',
      'arn:aws:iam::123456789012:role/Bedrock?',
      'arn:aws:iam::123456789012:role/',
      'arn:aws:iam::12345678901:role/R',
      'arn:aws:iam::123456789012:group/R',
      `arn:aws:iam::123456789012:role/${'r'.repeat(513)}`,
      'arn:aws:iam::123456789012:role/R\n',
    ]) {
      expect(ROLE_ARN.test(arn), arn).toBe(false);
      expect(PRINCIPAL_ARN.test(arn), arn).toBe(false);
    }
  });

  it.each(EC2)('%s-: 8 or 17 hex digits, nothing else', (prefix, pattern) => {
    expect(pattern.test(`${prefix}-1a2b3c4d`)).toBe(true);
    expect(pattern.test(`${prefix}-0123456789abcdef0`)).toBe(true);
    for (const n of [7, 9, 12, 16, 18]) expect(pattern.test(`${prefix}-${'a'.repeat(n)}`), `${n} digits`).toBe(false);
    expect(pattern.test(`${prefix}-0123456789ABCDEF0`)).toBe(false);
    expect(pattern.test(`${prefix}-0123456789abcdefg`)).toBe(false);
    expect(pattern.test(` ${prefix}-1a2b3c4d`)).toBe(false);
    expect(pattern.test(`${prefix}-1a2b3c4d\n`)).toBe(false);
    expect(`${prefix}-0123456789abcdef0`.length).toBeLessThanOrEqual(MAX_EC2_ID_LENGTH);
  });

  it('each EC2 pattern takes only its own prefix', () => {
    for (const [prefix, pattern] of EC2) {
      for (const [other] of EC2) if (other !== prefix) expect(pattern.test(`${other}-0123456789abcdef0`), `${prefix} vs ${other}`).toBe(false);
    }
  });

  it('account ids, Region codes, partitions', () => {
    expect(ACCOUNT_ID.test('123456789012')).toBe(true);
    for (const bad of ['12345678901', '1234567890123', '12345678901a', '']) expect(ACCOUNT_ID.test(bad), bad).toBe(false);
    for (const region of ['us-east-1', 'eu-central-2', 'ap-southeast-5', 'us-gov-west-1', 'cn-northwest-1', 'il-central-1']) expect(REGION.test(region), region).toBe(true);
    for (const bad of ['us-east', 'US-EAST-1', 'us-east-10', 'useast1', 'us-east-1a', '']) expect(REGION.test(bad), bad).toBe(false);
    for (const partition of ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso-b']) expect(PARTITION.test(partition), partition).toBe(true);
    for (const bad of ['AWS', 'aws-', 'azure', 'aws-cn1']) expect(PARTITION.test(bad), bad).toBe(false);
  });

  it('the zod schemas: the pattern behind a length cap, with a message naming the form', () => {
    expect(z.safeParse(vpcIdSchema, 'vpc-0123456789abcdef0').success).toBe(true);
    const bad = z.safeParse(vpcIdSchema, 'vpc-0123');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('must look like vpc-0123456789abcdef0');
    const long = z.safeParse(vpcIdSchema, `vpc-${'0'.repeat(10_000)}`);
    expect(long.error?.issues).toHaveLength(1); // the cap aborts: the pattern never runs
    expect(z.safeParse(accountIdSchema, '123456789012').success).toBe(true);
    expect(z.safeParse(accountIdSchema, '1234').error?.issues[0]?.message).toBe('must be a 12-digit account id');
  });
});

describe('KMS key ARNs', () => {
  it('a UUID key id or a multi-Region key id (mrk- and 32 hex digits)', () => {
    expect(KMS_KEY_ARN.test('arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab')).toBe(true);
    expect(KMS_KEY_ARN.test('arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab')).toBe(true);
    expect(KMS_KEY_ARN.test('arn:aws:kms:us-east-2:111122223333:alias/my-key')).toBe(false);
    expect(KMS_KEY_ARN.test('arn:aws:kms:us-east-2:111122223333:key/mrk-1234')).toBe(false);
    expect(KMS_KEY_ARN.test('arn:aws:kms:us-east-2:111122223333:key/*')).toBe(false);
  });
});
