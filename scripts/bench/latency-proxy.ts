/**
 * A loopback HTTP proxy in front of moto for the benchmarks: it forwards every request to moto and
 * adds, on the wire, what moto lacks and a call to AWS has. Everything it adds is a model, labelled so:
 *
 * - **Round trip.** Each request waits `roundTripMs` in the proxy before it is forwarded (a fixed
 *   figure, e.g. 25 ms: a model of the network between a Lambda and a regional endpoint, not a
 *   measurement of AWS). The wait is per HTTP request, so retries pay it again and the client's
 *   own limits (sockets, concurrency) apply as they would against AWS.
 * - **EC2 request throttling of mutating actions.** "Amazon EC2 uses the token bucket algorithm to
 *   implement API throttling": each request takes one token from the bucket; the bucket refills a set
 *   number of tokens every second up to its maximum; a request finding it empty fails with
 *   `RequestLimitExceeded`. Mutating actions: bucket maximum capacity 50 tokens, refill rate 5 tokens
 *   per second (table "Request token bucket sizes and refill rates").
 *   https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
 *   (older copy: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/throttling.html)
 *   Each mutating action has its own bucket ("each API is evaluated individually").
 *   An over-rate request is answered as EC2 answers it: HTTP 503 and the EC2 Query API error document
 *   `<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>…</Message></Error></Errors>
 *   <RequestID>…</RequestID></Response>` (shape: "Example error response",
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html). The SDK classifies
 *   the code `RequestLimitExceeded` as throttling and retries it with its own backoff.
 * - **DescribeNetworkInterfaces pages.** EC2 returns at most `MaxResults` (5–1,000) interfaces and a
 *   `nextToken` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkInterfaces.html);
 *   moto 5.2 ignores MaxResults and answers everything in one page. The proxy pages moto's answer
 *   itself (opaque token `proxy-page-<offset>`), so a paginator really makes one call per page.
 *
 * EC2 requests are recognised by the service of their SigV4 credential scope (`/ec2/aws4_request`),
 * the action by the Query protocol's `Action=` form parameter.
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenBucketSpec {
  /** Most tokens the bucket holds (and holds at the start). */
  capacity: number;
  /** Tokens added back each whole second, up to `capacity`. */
  refillPerSecond: number;
}

/**
 * EC2's bucket for mutating actions (see the file comment for the source). NOT CONFIRMED: the stored
 * copies of the page lost the table's rows; check the figures against the live page.
 */
export const EC2_MUTATING_BUCKET: TokenBucketSpec = { capacity: 50, refillPerSecond: 5 };

export interface LatencyProxyOptions {
  /** moto's endpoint, e.g. http://127.0.0.1:5000 */
  target: string;
  /** Modelled round trip added to every request (ms). */
  roundTripMs: number;
  /** Throttle EC2 mutating actions with this bucket (per action); none when absent. */
  ec2MutatingBucket?: TokenBucketSpec;
  /** Page DescribeNetworkInterfaces by its MaxResults (moto does not). Default true. */
  pageNetworkInterfaces?: boolean;
}

export interface ProxyStats {
  /** HTTP requests received, retries included. */
  requests: number;
  /** Requests by action (EC2/IAM `Action=`, `X-Amz-Target`, or method and first path segment). */
  byAction: Record<string, number>;
  /** Requests answered 503 RequestLimitExceeded, by action. */
  throttled: Record<string, number>;
  inFlight: number;
  maxInFlight: number;
}

export interface LatencyProxy {
  endpoint: string;
  stats: ProxyStats;
  /** Zeroes the statistics and refills every bucket (a fresh account-second for the next run). */
  reset(): void;
  close(): Promise<void>;
}

const MUTATING_PREFIXES = ['Describe', 'Get', 'List', 'Search'];

class TokenBucket {
  private tokens: number;
  private lastRefill = performance.now();
  constructor(private readonly spec: TokenBucketSpec) {
    this.tokens = spec.capacity;
  }
  /** Takes a token if one is there; refills are whole seconds' worth, as the documentation describes. */
  take(): boolean {
    const now = performance.now();
    const seconds = Math.floor((now - this.lastRefill) / 1000);
    if (seconds > 0) {
      this.tokens = Math.min(this.spec.capacity, this.tokens + seconds * this.spec.refillPerSecond);
      this.lastRefill += seconds * 1000;
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

function serviceOf(req: IncomingMessage): string | undefined {
  return /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''))?.[1];
}

function actionOf(req: IncomingMessage, form: URLSearchParams | undefined): string {
  const action = form?.get('Action');
  if (action) return action;
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target;
  return `${req.method} /${(req.url ?? '/').split('?')[0]!.split('/')[1] ?? ''}`;
}

function throttledBody(): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors>' +
    `<RequestID>${randomUUID()}</RequestID></Response>`
  );
}

/** Top-level `<item>…</item>` elements of `set` (items nest: tag sets, group sets, addresses). */
function topLevelItems(set: string): string[] {
  const items: string[] = [];
  const tag = /<(\/?)item(\s[^>]*)?(\/?)>/g;
  let depth = 0;
  let start = -1;
  for (let m = tag.exec(set); m; m = tag.exec(set)) {
    if (m[3] === '/') {
      if (depth === 0) items.push(m[0]);
      continue;
    }
    if (m[1] === '/') {
      depth--;
      if (depth === 0) items.push(set.slice(start, m.index + m[0].length));
    } else {
      if (depth === 0) start = m.index;
      depth++;
    }
  }
  return items;
}

/** One page of a DescribeNetworkInterfaces answer: items [offset, offset + max) and a nextToken if more. */
function pageNetworkInterfaces(xml: string, offset: number, max: number): string {
  const open = '<networkInterfaceSet>';
  const close = '</networkInterfaceSet>';
  const a = xml.indexOf(open);
  const b = xml.lastIndexOf(close);
  if (a < 0 || b < 0) return xml;
  const items = topLevelItems(xml.slice(a + open.length, b));
  const page = items.slice(offset, offset + max).join('');
  const more = offset + max < items.length;
  const rest = xml.slice(b + close.length).replace(/<nextToken>[^<]*<\/nextToken>/, '');
  const token = more ? `<nextToken>proxy-page-${offset + max}</nextToken>` : '';
  return `${xml.slice(0, a)}${open}${page}${close}${token}${rest}`;
}

export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const pageEnis = options.pageNetworkInterfaces ?? true;
  const fresh = (): ProxyStats => ({ requests: 0, byAction: {}, throttled: {}, inFlight: 0, maxInFlight: 0 });
  let stats = fresh();
  let buckets = new Map<string, TokenBucket>();

  const respond = (res: ServerResponse, status: number, headers: Record<string, string | string[] | undefined>, body: Buffer | string) => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    const out: Record<string, string | string[] | undefined> = { ...headers, 'content-length': String(buf.length) };
    delete out['transfer-encoding'];
    res.writeHead(status, out);
    res.end(buf);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const service = serviceOf(req);
    const isForm = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const form = isForm ? new URLSearchParams(body.toString('utf8')) : undefined;
    const action = actionOf(req, form);
    stats.requests++;
    stats.byAction[action] = (stats.byAction[action] ?? 0) + 1;

    if (options.roundTripMs > 0) await new Promise((r) => setTimeout(r, options.roundTripMs));

    if (service === 'ec2' && options.ec2MutatingBucket && !MUTATING_PREFIXES.some((p) => action.startsWith(p))) {
      let bucket = buckets.get(action);
      if (!bucket) buckets.set(action, (bucket = new TokenBucket(options.ec2MutatingBucket)));
      if (!bucket.take()) {
        stats.throttled[action] = (stats.throttled[action] ?? 0) + 1;
        respond(res, 503, { 'content-type': 'text/xml;charset=UTF-8' }, throttledBody());
        return;
      }
    }

    const paging = pageEnis && service === 'ec2' && action === 'DescribeNetworkInterfaces' && form?.has('MaxResults');
    let offset = 0;
    let max = 0;
    if (paging) {
      max = Number(form!.get('MaxResults'));
      const token = form!.get('NextToken');
      offset = token ? Number(/^proxy-page-(\d+)$/.exec(token)?.[1] ?? NaN) : 0;
      if (!Number.isInteger(max) || max < 5 || max > 1000 || !Number.isInteger(offset)) {
        const error =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidParameterValue</Code>' +
          `<Message>MaxResults must be 5-1000 and NextToken one this proxy gave</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
        respond(res, 400, { 'content-type': 'text/xml;charset=UTF-8' }, error);
        return;
      }
    }

    const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      const out = httpRequest(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
        resolve,
      );
      out.on('error', reject);
      out.end(body);
    });
    const answer: Buffer[] = [];
    for await (const chunk of upstream) answer.push(chunk as Buffer);
    let payload = Buffer.concat(answer);
    if (paging && upstream.statusCode === 200) {
      payload = Buffer.from(pageNetworkInterfaces(payload.toString('utf8'), offset, max));
    }
    respond(res, upstream.statusCode ?? 502, upstream.headers, payload);
  };

  const server = createServer((req, res) => {
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    handle(req, res)
      .catch((err: Error) => {
        if (!res.headersSent) respond(res, 502, { 'content-type': 'text/plain' }, `latency proxy: ${err.message}`);
        else res.destroy(err);
      })
      .finally(() => stats.inFlight--);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get stats() {
      return stats;
    },
    reset() {
      stats = fresh();
      buckets = new Map();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
