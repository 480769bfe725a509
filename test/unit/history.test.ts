/**
 * functions/shared/history.ts: GetExecutionHistory through the SDK's paginator. The mock answers the
 * command the paginator sends (aws-sdk-client-mock), page by page with `nextToken` as the API does
 * (Step Functions API Reference, GetExecutionHistory).
 */
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { historyEvents, MAX_HISTORY_PAGE_SIZE, readHistory } from '../../functions/shared/history.js';

const mock = mockClient(SFNClient);
const client = new SFNClient({});
afterEach(() => mock.reset());

const ARN = 'arn:aws:states:us-east-1:123456789012:execution:sm:run-1';
const events = (from: number, to: number): HistoryEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, timestamp: new Date(0), type: 'PassStateEntered' }));

/** A history of `total` events served `size` per page, oldest or newest first, as the API pages it. */
function serve(total: number) {
  mock.on(GetExecutionHistoryCommand).callsFake((input) => {
    const all = events(1, total);
    const ordered = input.reverseOrder ? all.reverse() : all;
    const from = Number(input.nextToken ?? 0);
    const size = input.maxResults || 100;
    return { events: ordered.slice(from, from + size), ...(from + size < total ? { nextToken: String(from + size) } : {}) };
  });
}

const tokens = () => mock.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input.nextToken);

describe('history', () => {
  it('readHistory: every page, oldest first, the largest pages, with the execution data', async () => {
    serve(2 * MAX_HISTORY_PAGE_SIZE + 5);
    const read = await readHistory(client, ARN);
    expect(read.map((e) => e.id)).toEqual(events(1, 2 * MAX_HISTORY_PAGE_SIZE + 5).map((e) => e.id));
    expect(mock).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 3);
    expect(mock).toHaveReceivedNthCommandWith(GetExecutionHistoryCommand, 1, { executionArn: ARN, maxResults: MAX_HISTORY_PAGE_SIZE, reverseOrder: false, includeExecutionData: true });
  });

  it('newest first, page size as asked; leaving the loop reads no further page', async () => {
    serve(50);
    const seen: number[] = [];
    for await (const event of historyEvents(client, ARN, { newestFirst: true, pageSize: 10 })) {
      seen.push(event.id!);
      if (event.id === 38) break; // on the second page
    }
    expect(seen).toEqual([50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38]);
    expect(mock).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 2);
    expect(mock).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { reverseOrder: true, maxResults: 10 });
  });

  it('maxPages bounds the read: no page past it is requested', async () => {
    serve(50);
    const seen: HistoryEvent[] = [];
    for await (const event of historyEvents(client, ARN, { pageSize: 10, maxPages: 3 })) seen.push(event);
    expect(seen.map((e) => e.id)).toEqual(events(1, 30).map((e) => e.id));
    expect(mock).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 3);
    // Each page after the first asks from the previous page's token.
    expect(tokens().slice(1).every((t) => t !== undefined)).toBe(true);
  });

  it('a history shorter than the bound ends at its last page (no nextToken)', async () => {
    serve(15);
    const seen: HistoryEvent[] = [];
    for await (const event of historyEvents(client, ARN, { pageSize: 10, maxPages: 5, includeExecutionData: false })) seen.push(event);
    expect(seen).toHaveLength(15);
    expect(mock).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 2);
    expect(mock).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { includeExecutionData: false });
  });

  it("passes the API's errors on as the SDK throws them", async () => {
    mock.on(GetExecutionHistoryCommand).rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    await expect(readHistory(client, ARN)).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });

  it('refuses a page size or a bound the API cannot take, before any call', async () => {
    for (const read of [{ pageSize: 0 }, { pageSize: MAX_HISTORY_PAGE_SIZE + 1 }, { pageSize: 2.5 }, { maxPages: 0 }]) {
      await expect(historyEvents(client, ARN, read).next()).rejects.toBeInstanceOf(RangeError);
    }
    expect(mock).not.toHaveReceivedAnyCommand();
  });
});
