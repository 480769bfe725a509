/**
 * The stack's DynamoDB tables (PolicyLeasesTable, JobLedgerTable, JobWaitsTable) for the unit and
 * state-machine tiers: a mocked DynamoDBClient answering GetItem, PutItem, UpdateItem, DeleteItem and
 * Query from an in-memory store that evaluates DynamoDB's condition and update expressions
 * (local/dynamodb-memory.ts): ConditionalCheckFailedException on a failed condition, as DynamoDB
 * answers. The same code runs against moto's DynamoDB in the emulator and abuse tiers.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { MemoryDynamoDB } from '../../local/dynamodb-memory.js';

/** Key attributes of each table (serverless.yml's KeySchema): the leases table has a sort key. */
const keyNames = (table: string | undefined) => (table === (process.env.POLICY_LEASES_TABLE ?? 'policy-leases') ? ['pk', 'sk'] : ['pk']);

/** Answers `mock`'s DynamoDB calls from a fresh in-memory store; returns the store. */
export function emulateTables(mock: AwsStub<any, any, any>): MemoryDynamoDB {
  const db = new MemoryDynamoDB();
  mock.on(GetItemCommand).callsFake((input) => db.getItem(input));
  mock.on(PutItemCommand).callsFake((input) => db.putItem(input, keyNames(input.TableName)));
  mock.on(UpdateItemCommand).callsFake((input) => db.updateItem(input));
  mock.on(DeleteItemCommand).callsFake((input) => db.deleteItem(input));
  mock.on(QueryCommand).callsFake((input) => db.query(input));
  return db;
}
