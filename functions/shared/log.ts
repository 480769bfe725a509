/**
 * Structured logs through Lambda's own JSON log format (serverless.yml `provider.logs.lambda`:
 * `logFormat: JSON`, `applicationLogLevel` from the stage param `logLevel`). Each entry is one
 * `console` call with one object: the Node.js runtime writes it as the `message` of a JSON log line
 * next to `timestamp`, `level` and `requestId`, and drops levels below the function's application
 * log level. No logging library in the bundle (the Powertools logger cost ~21 KB per function).
 *
 * Outside Lambda (tests, `npm run local`, the bench) the same variable, `AWS_LAMBDA_LOG_LEVEL`,
 * filters here, with one more value: `SILENT`.
 */
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'SILENT'] as const;
type Level = (typeof LEVELS)[number];

function enabled(level: Level): boolean {
  const threshold = LEVELS.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL ?? 'INFO').toUpperCase() as Level);
  return LEVELS.indexOf(level) >= (threshold < 0 ? LEVELS.indexOf('INFO') : threshold);
}

/** An error as data: name, message, stack, its own fields (`issues`, `report`…) and its `cause` chain. */
export function errorAsData(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const { name, message, stack } = err;
  const own = Object.fromEntries(Object.entries(err).filter(([k]) => k !== 'name' && k !== '$response'));
  const cause = err.cause === undefined || depth >= 5 ? {} : { cause: errorAsData(err.cause, depth + 1) };
  return { name, message, ...own, stack, ...cause };
}

export const log = {
  info(message: string, fields: Record<string, unknown> = {}): void {
    if (enabled('INFO')) console.info({ message, ...fields });
  },
  warn(message: string, fields: Record<string, unknown> = {}): void {
    if (enabled('WARN')) console.warn({ message, ...fields });
  },
  error(message: string, error: unknown, fields: Record<string, unknown> = {}): void {
    if (enabled('ERROR')) console.error({ message, ...fields, error: errorAsData(error) });
  },
};
