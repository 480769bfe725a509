/**
 * Node 20 shims for the local tooling (tests, local run, bench); the Lambdas themselves run on nodejs22.x.
 *
 * aws-local-stepfunctions 3 calls Promise.withResolvers (Node >= 22) in every Task state. On Node 20
 * it is missing and each Task would fail with a TypeError that Retry/Catch could hide. Loaded by the
 * test setup and the scripts before any state machine runs.
 */
type Resolvers<T> = { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void };
const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
export {};

// The AWS SDK warns on Node < 22 that future versions will need it; the Lambdas run on nodejs22.x.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
