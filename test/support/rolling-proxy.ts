// A small loopback reverse proxy standing in for the load balancer in front of
// the ECS service: round-robin over a mutable set of targets, with
// deregistration that stops new requests to a target while letting the ones
// already sent to it finish. Keep-alive connections to the backends, like an
// ALB. No retries: a backend connection error is answered with 502 so that the
// client sees it as a failure.
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';

const UPSTREAM_TIMEOUT_MS = 3_000;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(key.toLowerCase())) out[key] = value;
  }
  return out;
}

export class RollingProxy {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private targets: string[] = [];
  private next = 0;
  private readonly inFlight = new Map<string, number>();
  /** Responses started per target (any status), for checking who served what. */
  readonly served = new Map<string, number>();
  private readonly drained = new Map<string, (() => void)[]>();
  /** Requests answered 502/503 by the proxy itself. */
  proxyErrors = 0;

  private readonly server = createServer((req, res) => this.handle(req, res));
  port = 0;

  private constructor() {
    this.server.keepAliveTimeout = 30_000;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the proxy on a free loopback port. */
  static start(): Promise<RollingProxy> {
    const proxy = new RollingProxy();
    return new Promise((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        const address = proxy.server.address();
        proxy.port = typeof address === 'object' && address ? address.port : 0;
        resolve(proxy);
      });
    });
  }

  /** Current targets, as "host:port". */
  get registered(): readonly string[] {
    return this.targets;
  }

  register(target: string): void {
    if (!this.targets.includes(target)) this.targets = [...this.targets, target];
  }

  /**
   * Stops sending new requests to the target at once; resolves when the
   * requests already sent to it have finished.
   */
  deregister(target: string): Promise<void> {
    this.targets = this.targets.filter((t) => t !== target);
    if ((this.inFlight.get(target) ?? 0) === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.drained.get(target) ?? [];
      waiters.push(resolve);
      this.drained.set(target, waiters);
    });
  }

  inFlightTo(target: string): number {
    return this.inFlight.get(target) ?? 0;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.agent.destroy();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const targets = this.targets;
    if (targets.length === 0) {
      this.proxyErrors++;
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no registered targets\n');
      return;
    }
    const target = targets[this.next++ % targets.length] as string;
    const [host, portText] = target.split(':') as [string, string];
    this.inFlight.set(target, this.inFlightTo(target) + 1);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const left = this.inFlightTo(target) - 1;
      this.inFlight.set(target, left);
      if (left === 0 && !this.targets.includes(target)) {
        for (const resolve of this.drained.get(target) ?? []) resolve();
        this.drained.delete(target);
      }
    };

    const upstream = httpRequest(
      {
        host,
        port: Number(portText),
        method: req.method,
        path: req.url,
        headers: forwardable(req.headers),
        agent: this.agent,
      },
      (upstreamRes) => {
        this.served.set(target, (this.served.get(target) ?? 0) + 1);
        res.writeHead(upstreamRes.statusCode ?? 502, forwardable(upstreamRes.headers));
        upstreamRes.pipe(res);
        upstreamRes.once('error', () => res.destroy());
      },
    );
    // A backend that accepts but never answers is a failure too, not a hang.
    upstream.setTimeout(UPSTREAM_TIMEOUT_MS, () =>
      upstream.destroy(new Error(`no response within ${UPSTREAM_TIMEOUT_MS} ms`)),
    );
    // The request is over for this target when the client's response closes
    // (answered, failed or abandoned by the client).
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
      finish();
    });
    upstream.once('error', (error) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      this.proxyErrors++;
      res
        .writeHead(502, { 'content-type': 'text/plain' })
        .end(`bad gateway: ${target}: ${error.message}\n`);
    });
    req.pipe(upstream);
  }
}
