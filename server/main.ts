// Entry point. `node server.js` serves the API; `node server.js --healthcheck`
// probes http://127.0.0.1:$PORT/healthz and exits 0 (healthy) or 1, which is
// what the ECS container health check runs (the image has no curl).
import http from 'node:http';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { DEFAULT_PORT, parseConfig } from './config.js';
import { createLineWriter } from './log.js';

/** Graceful shutdown must finish well inside ECS's 30 s (and podman's 10 s) stop timeout. */
const FORCE_EXIT_AFTER_MS = 8_000;

const stdoutLines = createLineWriter((chunk) => process.stdout.write(chunk));
// Nothing queued is lost on process.exit() or an uncaught exception.
process.on('exit', () => stdoutLines.flush());

function logLine(
  level: 'info' | 'warn' | 'error',
  msg: string,
  extra: Record<string, unknown> = {},
): void {
  stdoutLines.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...extra }));
}

function healthcheck(): void {
  const port = Number(process.env.PORT) || DEFAULT_PORT;
  const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 3_000 }, (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (err) => {
    process.stderr.write(`healthcheck failed: ${err.message}\n`);
    process.exit(1);
  });
}

function start(): void {
  const parsed = parseConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`iclinic-deploy server: ${parsed.error}\n`);
    process.exit(1);
  }
  for (const warning of parsed.warnings) logLine('warn', warning);
  const { config } = parsed;

  const app = createApp({ ...config, log: stdoutLines.write });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: '0.0.0.0' }, (info) => {
    logLine('info', 'listening', {
      port: info.port,
      previousTokenAccepted: config.previousToken !== undefined,
    });
  }) as http.Server;
  server.keepAliveTimeout = 65_000; // longer than the ALB's 60 s idle timeout

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logLine('info', 'shutting down', { signal });
    const force = setTimeout(() => {
      logLine('error', 'in-flight requests did not finish in time; forcing exit', {
        afterMs: FORCE_EXIT_AFTER_MS,
      });
      server.closeAllConnections();
      process.exit(1);
    }, FORCE_EXIT_AFTER_MS);
    force.unref();
    // Stop accepting; close() waits for in-flight requests. Idle keep-alive
    // sockets are closed now and again as each busy one becomes idle.
    server.close((err) => {
      if (err) logLine('error', 'close failed', { error: err.message });
      logLine('info', 'stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (process.argv.includes('--healthcheck')) healthcheck();
else start();
