/**
 * The one way a handler is built: middy, the event parsed with a schema (a bad event fails with
 * {@link InvalidInputError} naming the field), then the step's logic. A failure is logged whole (name,
 * message, stack, cause) and re-thrown unchanged, so Step Functions Retry/Catch see its typed `name`.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { log } from './log.js';
import type * as z from 'zod/mini';
import { parseOrThrow, type Schema } from './validation.js';

export function makeHandler<S extends Schema, R>(eventSchema: S, step: (event: z.output<S>, context: Context) => Promise<R>) {
  return middy<unknown, R, Error, Context>()
    .use({
      onError: async (request) => {
        log.error('step failed', request.error);
      },
    })
    .handler(async (event, context) => step(parseOrThrow(eventSchema, event), context));
}
