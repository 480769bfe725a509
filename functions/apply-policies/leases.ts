/**
 * Policy leases, in the stack's DynamoDB table (PolicyLeasesTable, key `pk` + `sk`): which job holds
 * which statement of which policy document, and a lock per document.
 *
 * - A **lock** serializes every read-modify-write of one document (apply, rollback, revoke) across
 *   executions: `pk = lock#<document>`, written with a condition (free, expired, or already ours) and
 *   deleted after the write. A crashed holder's lock expires after {@link LOCK_SECONDS}.
 * - A **hold** says that a job (its chain's first execution ARN, the `owner`) relies on statements
 *   (by Sid) of a document: `pk = doc#<document>, sk = <owner>` and the owner's index
 *   `pk = owner#<owner>, sk = <document>`. Apply records one for every statement of ours the job
 *   needs, written now or found already there. Rollback and revoke remove a statement only when no
 *   other live hold names it. A hold expires (TTL `expiresAt`) when the job cannot be running any
 *   more: the longest quota wait, the longest job and a day of margin after apply.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  paginateQuery,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { PolicyLockBusyError } from '../shared/errors.js';
import { collect } from '../shared/sdk.js';

/** How long a document's lock lives when its holder never releases it (a Lambda runs at most 60 s). */
export const LOCK_SECONDS = 120;

/** A policy document, as leases name it: `role:<role>:<policy name>`, `endpoint:<id>`, `bucket:<name>`. */
export type DocumentKey = string;

/** One owner's hold on a document: the Sids it relies on, and the document's location (for revoke). */
export interface Hold {
  document: DocumentKey;
  /** The plan's target of the document, as JSON (revoke finds the policy from it). */
  target: string;
  sids: string[];
  expiresAt: number;
}

export interface Leases {
  /** Runs `fn` holding `document`'s lock; {@link PolicyLockBusyError} when another owner holds it. */
  withLock<T>(document: DocumentKey, owner: string, fn: () => Promise<T>): Promise<T>;
  /** Records (replaces) `owner`'s hold on a document. */
  hold(owner: string, hold: Hold): Promise<void>;
  /** The Sids of `document` held by live owners other than `owner`. */
  heldByOthers(document: DocumentKey, owner: string): Promise<Set<string>>;
  /** Every live hold of `owner`. */
  heldBy(owner: string): Promise<Hold[]>;
  /** Deletes `owner`'s hold on `document`. */
  release(owner: string, document: DocumentKey): Promise<void>;
}

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** {@link Leases} in the DynamoDB table `tableName`. */
export function dynamoLeases(dynamodb: Pick<DynamoDBClient, 'send'>, tableName: string): Leases {
  const query = (pk: string) =>
    collect(
      paginateQuery(
        { client: dynamodb as DynamoDBClient },
        { TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': s(pk) }, ConsistentRead: true },
      ),
      (page) => page.Items,
    );
  const live = (item: Record<string, AttributeValue>) => Number(item.expiresAt?.N ?? 0) > nowSeconds();

  return {
    async withLock(document, owner, fn) {
      try {
        await dynamodb.send(
          new PutItemCommand({
            TableName: tableName,
            Item: { pk: s(`lock#${document}`), sk: s('lock'), owner: s(owner), expiresAt: n(nowSeconds() + LOCK_SECONDS) },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':now': n(nowSeconds()), ':owner': s(owner) },
          }),
        );
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException') {
          throw new PolicyLockBusyError(`${document} is being changed by another execution: retried`);
        }
        throw err;
      }
      try {
        return await fn();
      } finally {
        try {
          await dynamodb.send(
            new DeleteItemCommand({
              TableName: tableName,
              Key: { pk: s(`lock#${document}`), sk: s('lock') },
              ConditionExpression: '#owner = :owner',
              ExpressionAttributeNames: { '#owner': 'owner' },
              ExpressionAttributeValues: { ':owner': s(owner) },
            }),
          );
        } catch {
          // Expired and taken by another: theirs now. Any other failure: the lock expires by itself.
        }
      }
    },
    async hold(owner, hold) {
      const common = { target: s(hold.target), sids: s(JSON.stringify(hold.sids)), expiresAt: n(hold.expiresAt) };
      await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: s(`owner#${owner}`), sk: s(hold.document), ...common } }));
      await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { pk: s(`doc#${hold.document}`), sk: s(owner), ...common } }));
    },
    async heldByOthers(document, owner) {
      const items = await query(`doc#${document}`);
      return new Set(items.filter((i) => i.sk?.S !== owner && live(i)).flatMap((i) => JSON.parse(i.sids?.S ?? '[]') as string[]));
    },
    async heldBy(owner) {
      const items = await query(`owner#${owner}`);
      return items.filter(live).map((i) => ({
        document: i.sk!.S!,
        target: i.target!.S!,
        sids: JSON.parse(i.sids?.S ?? '[]') as string[],
        expiresAt: Number(i.expiresAt!.N),
      }));
    },
    async release(owner, document) {
      await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: s(`doc#${document}`), sk: s(owner) } }));
      await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: s(`owner#${owner}`), sk: s(document) } }));
    },
  };
}
