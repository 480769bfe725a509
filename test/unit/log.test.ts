import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, PolicyApplyError } from '../../functions/shared/errors.js';
import { makeHandler } from '../../functions/shared/handler.js';
import { errorAsData, log } from '../../functions/shared/log.js';
import * as z from 'zod/mini';

const level = process.env.AWS_LAMBDA_LOG_LEVEL;
afterEach(() => {
  process.env.AWS_LAMBDA_LOG_LEVEL = level;
  vi.restoreAllMocks();
});

describe('structured logs (Lambda JSON log format)', () => {
  it('writes one object per entry, so the runtime puts it whole in the JSON line', () => {
    // Prepare
    process.env.AWS_LAMBDA_LOG_LEVEL = 'INFO';
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    // Act
    log.info('policy plan', { changes: ['create role/x'] });
    // Assess
    expect(info).toHaveBeenCalledExactlyOnceWith({ message: 'policy plan', changes: ['create role/x'] });
  });

  it('drops entries below AWS_LAMBDA_LOG_LEVEL (SILENT drops all)', () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    process.env.AWS_LAMBDA_LOG_LEVEL = 'WARN';
    log.info('dropped');
    log.error('kept', new Error('x'));
    process.env.AWS_LAMBDA_LOG_LEVEL = 'SILENT';
    log.error('dropped too', new Error('y'));
    expect(info).not.toHaveBeenCalled();
    expect(error).toHaveBeenCalledOnce();
  });

  it('keeps an error whole: name, message, stack, its own fields and the cause chain', () => {
    // Prepare
    const root = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const err = new PolicyApplyError('Writing role/x failed', { cause: root });
    // Act
    const data = errorAsData(err) as Record<string, unknown> & { cause: Record<string, unknown> };
    // Assess
    expect(data).toMatchObject({ name: 'PolicyApplyError', message: 'Writing role/x failed' });
    expect(String(data.stack)).toContain('PolicyApplyError: Writing role/x failed');
    expect(data.cause).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    expect(String(data.cause.stack)).toContain('ThrottlingException');
  });

  it('makeHandler logs a failure whole and re-throws it unchanged (Step Functions routes on its name)', async () => {
    // Prepare
    process.env.AWS_LAMBDA_LOG_LEVEL = 'INFO';
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const handler = makeHandler(z.object({ n: z.number() }), async () => 1);
    // Act
    const thrown = await handler({ n: 'one' }, {} as never).catch((e: unknown) => e);
    // Assess
    expect(thrown).toBeInstanceOf(InvalidInputError);
    // zod's English messages are loaded (zod/mini alone would say only "Invalid input").
    expect((thrown as InvalidInputError).issues[0]).toEqual({ field: 'n', message: 'Invalid input: expected number, received string' });
    const entry = error.mock.calls[0]![0] as { message: string; error: { name: string; issues: unknown[]; stack: string } };
    expect(entry.message).toBe('step failed');
    expect(entry.error).toMatchObject({ name: 'InvalidInputError', issues: [{ field: 'n' }] });
    expect(entry.error.stack).toContain('InvalidInputError');
  });

  it('makeHandler (middy) gives up with TimeoutError 5 ms before Lambda\'s timeout, logged; in time, the result', async () => {
    // Prepare: 30 ms left, a step that would take a second
    process.env.AWS_LAMBDA_LOG_LEVEL = 'INFO';
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const slow = makeHandler(z.object({}), () => new Promise<number>((resolve) => setTimeout(() => resolve(1), 1000)));
    const fast = makeHandler(z.object({}), async () => 2);
    const context = { getRemainingTimeInMillis: () => 30 } as never;
    // Act
    const started = Date.now();
    const thrown = await slow({}, context).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    // Assess
    expect(thrown).toMatchObject({ name: 'TimeoutError' });
    expect(elapsed).toBeGreaterThanOrEqual(20);
    expect(elapsed).toBeLessThan(900);
    expect((error.mock.calls[0]![0] as { error: { name: string } }).error.name).toBe('TimeoutError');
    expect(await fast({}, context)).toBe(2);
    expect(await fast(undefined, undefined as never)).toBe(2);
  });
});
