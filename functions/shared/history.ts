/**
 * Reading an execution's history: GetExecutionHistory through the SDK's paginator
 * (`paginateGetExecutionHistory` of @aws-sdk/client-sfn), for every reader of a deployed execution's
 * history — notify (every event, oldest first), the reaper and resume-job's hand-over check (newest
 * first, stopping at what they look for) and the CLI (following a running execution, a hand-over's
 * first page).
 *
 * {@link historyEvents} yields events one by one: a caller that has what it needs leaves its
 * `for await` loop, and no further page is requested (leaving the loop ends the paginator).
 * `maxPages` bounds the read where a caller has a bound.
 *
 * GetExecutionHistory (Step Functions API Reference): events in ascending order of their timeStamp,
 * `reverseOrder` lists them newest first; `maxResults` "the default is 100 and the maximum allowed page
 * size is 1000"; `includeExecutionData` "the default is true"; "Keep all other arguments unchanged" from
 * page to page (the paginator passes the same input with each `nextToken`).
 */
import { paginateGetExecutionHistory, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';

/** GetExecutionHistory's largest page, `maxResults` (Step Functions API Reference, GetExecutionHistory). */
export const MAX_HISTORY_PAGE_SIZE = 1000;

export interface HistoryRead {
  /** Newest event first (`reverseOrder`); oldest first by default. */
  newestFirst?: boolean;
  /** Events per page (`maxResults`, 1 to {@link MAX_HISTORY_PAGE_SIZE}); the largest by default. */
  pageSize?: number;
  /** The states' input and output in the events (`includeExecutionData`); true by default. */
  includeExecutionData?: boolean;
  /** Most pages read; every page by default. */
  maxPages?: number;
}

/**
 * The events of `executionArn`'s history, page after page as the caller consumes them. Errors of
 * GetExecutionHistory (ExecutionDoesNotExist, throttling…) are thrown as the SDK throws them.
 */
export async function* historyEvents(sfn: SFNClient, executionArn: string, read: HistoryRead = {}): AsyncGenerator<HistoryEvent, void, undefined> {
  const pageSize = read.pageSize ?? MAX_HISTORY_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_HISTORY_PAGE_SIZE) throw new RangeError(`pageSize must be 1 to ${MAX_HISTORY_PAGE_SIZE}, not ${pageSize}`);
  const maxPages = read.maxPages ?? Infinity;
  if (!(maxPages >= 1)) throw new RangeError(`maxPages must be at least 1, not ${maxPages}`);
  const pages = paginateGetExecutionHistory(
    { client: sfn, pageSize },
    { executionArn, reverseOrder: read.newestFirst ?? false, includeExecutionData: read.includeExecutionData ?? true },
  );
  let count = 0;
  for await (const page of pages) {
    yield* page.events ?? [];
    if (++count >= maxPages) return;
  }
}

/** The whole history of `executionArn`, oldest first, with the states' data: every page, the largest pages. */
export async function readHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for await (const event of historyEvents(sfn, executionArn)) events.push(event);
  return events;
}
