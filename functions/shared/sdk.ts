/**
 * Small helpers around the AWS SDK v3: the pages of an SDK paginator as one list, and counting the
 * API calls a step makes with a middleware on each command (counted once per call, not per retry).
 */
/** Every item of every page of an SDK paginator (`paginateDescribeSubnets(…)` and the like). */
export async function collect<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}

/** API calls made, by service. */
export type CallTally = Record<string, number>;

/** Any SDK command (method syntax: every command's typed `add` fits). */
export interface Countable {
  readonly middlewareStack: { add(middleware: unknown, options: unknown): void };
}

/**
 * Returns `command` with a middleware that adds one to `tally[service]` when it is sent. The
 * `initialize` step runs once per call (the SDK's retries come later in the stack), so the tally
 * counts API calls. Pass it as a paginator's `withCommand` to count every page.
 */
export function counted<C extends Countable>(tally: CallTally, service: string, command: C): C {
  command.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      tally[service] = (tally[service] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'bvcCountCalls' },
  );
  return command;
}
