/**
 * The one way a handler is built: middy, the Powertools logger context, the event parsed with a zod
 * schema (a bad event fails with {@link InvalidInputError} naming the field), then the step's logic.
 * Errors are logged and re-thrown unchanged, so Step Functions Retry/Catch see their typed `name`.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { parseOrThrow } from './job-input.js';
import { logger } from './logger.js';
import { describeError } from './errors.js';

export function makeHandler<S extends z.ZodType, R>(
  eventSchema: S,
  step: (event: z.output<S>, context: Context) => Promise<R>,
) {
  return middy<unknown, R, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      onError: async (request) => {
        logger.error('step failed', { error: describeError(request.error) });
      },
    })
    .handler(async (event, context) => step(parseOrThrow(eventSchema, event), context));
}
