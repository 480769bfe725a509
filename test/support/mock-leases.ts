/**
 * The policy leases table (serverless.yml's PolicyLeasesTable) for the unit and state-machine tiers:
 * a mocked DynamoDBClient answering the three calls functions/apply-policies/leases.ts makes —
 * PutItem (with the lock's condition), DeleteItem (with the owner condition) and Query by `pk` — from
 * an in-memory table, as DynamoDB would (ConditionalCheckFailedException on a failed condition). The
 * same code runs against moto's DynamoDB in the emulator tier (test/emulator/apply-policies.test.ts).
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

const failed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });

/** Answers `mock`'s DynamoDB calls from a fresh in-memory table; returns the table (pk → sk → item). */
export function emulateLeasesTable(mock: AwsStub<any, any, any>): Map<string, Map<string, Item>> {
  const table = new Map<string, Map<string, Item>>();
  const get = (key: Item) => table.get(key.pk!.S!)?.get(key.sk!.S!);
  mock.on(PutItemCommand).callsFake((input: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Item }) => {
    const existing = get(input.Item);
    if (input.ConditionExpression) {
      // The lock's condition: attribute_not_exists(pk) OR expiresAt < :now OR #owner = :owner
      const v = input.ExpressionAttributeValues!;
      const free = !existing || Number(existing.expiresAt!.N) < Number(v[':now']!.N) || existing.owner?.S === v[':owner']!.S;
      if (!free) throw failed();
    }
    const partition = table.get(input.Item.pk!.S!) ?? new Map<string, Item>();
    partition.set(input.Item.sk!.S!, input.Item);
    table.set(input.Item.pk!.S!, partition);
    return {};
  });
  mock.on(DeleteItemCommand).callsFake((input: { Key: Item; ConditionExpression?: string; ExpressionAttributeValues?: Item }) => {
    const existing = get(input.Key);
    if (input.ConditionExpression && existing?.owner?.S !== input.ExpressionAttributeValues![':owner']!.S) throw failed();
    table.get(input.Key.pk!.S!)?.delete(input.Key.sk!.S!);
    return {};
  });
  mock.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Item }) => ({
    Items: [...(table.get(input.ExpressionAttributeValues[':pk']!.S!)?.values() ?? [])],
  }));
  return table;
}
