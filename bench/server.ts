// Measures the service image and, as a baseline, a bare node:http server
// returning the same bytes. Prints figures; asserts nothing.
//
//   npm run bench
//
// Env: CONTAINER_ENGINE (default: podman, else docker), BENCH_DURATION_S
// (seconds per load phase, default 10), BENCH_CONNECTIONS (default 32).
// All traffic stays on 127.0.0.1.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import {
  ContainerEngine,
  detectEngine,
  removeContainer,
  startContainer,
  waitForHealthy,
  type StartedContainer,
} from '../test/support/container-engine.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TOKEN = 'bench-token-0123456789abcdef';
const IMAGE = 'localhost/iclinic-api:bench';

// Same status, body and content-type as the service's GET / answer.
const BARE_SERVER = `
const http = require('node:http');
const body = Buffer.from(JSON.stringify({ message: 'Hello from iclinic-deploy' }));
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65000;
server.listen(8080, '0.0.0.0');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

interface LoadFigures {
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(
  url: string,
  overallRate?: number,
  duration = DURATION_S,
): Promise<LoadFigures> {
  const result = await autocannon({
    url: `${url}/`,
    connections: CONNECTIONS,
    duration,
    headers: { authorization: `Token ${TOKEN}` },
    ...(overallRate ? { overallRate } : {}),
  });
  return {
    reqPerSec: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function containerPid(engine: ContainerEngine, name: string): Promise<number> {
  return Number(await engine.mustRun(['inspect', '--format', '{{.State.Pid}}', name]));
}

/** RSS of the container's main process in MiB: /proc when visible, else the engine's stats. */
async function rssMiB(engine: ContainerEngine, name: string): Promise<number> {
  try {
    const status = readFileSync(`/proc/${await containerPid(engine, name)}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // fall through to stats
  }
  const usage = await engine.mustRun(['stats', '--no-stream', '--format', '{{.MemUsage}}', name]);
  const match = /([\d.]+)\s*([KMG]i?B)/i.exec(usage);
  if (!match) return NaN;
  const factor: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024 };
  return Number(match[1]) * (factor[match[2]?.[0]?.toLowerCase() ?? 'm'] ?? 1);
}

/** Bytes of `ENGINE save IMAGE | gzip -c` (what a registry roughly stores and transfers). */
async function compressedSize(engine: ContainerEngine, image: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const save = spawn(engine.command, ['save', image], { stdio: ['ignore', 'pipe', 'inherit'] });
    const gzip = spawn('gzip', ['-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let bytes = 0;
    save.stdout.pipe(gzip.stdin);
    gzip.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    gzip.on('close', (code) =>
      code === 0 ? resolve(bytes) : reject(new Error(`gzip exited ${code}`)),
    );
    save.on('error', reject);
    gzip.on('error', reject);
  });
}

async function measureTarget(
  engine: ContainerEngine,
  label: string,
  startOptions: Parameters<typeof startContainer>[2],
): Promise<Record<string, string | number>> {
  const t0 = performance.now();
  const container: StartedContainer = await startContainer(engine, IMAGE, {
    namePrefix: 'iclinic-bench',
    ...startOptions,
  });
  try {
    await waitForHealthy(container.url, 60_000);
    const startToFirst200 = performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rssIdle = await rssMiB(engine, container.name);

    await load(container.url, undefined, 3); // warm-up (JIT), not reported
    let rssLoadMax = 0;
    const sampler = setInterval(() => {
      rssMiB(engine, container.name).then(
        (value) => (rssLoadMax = Math.max(rssLoadMax, value)),
        () => undefined,
      );
    }, 1_000);
    const peak = await load(container.url);
    clearInterval(sampler);
    const half = await load(container.url, Math.max(1, Math.round(peak.reqPerSec / 2)));
    return {
      target: label,
      'start→first 200 (ms)': Math.round(startToFirst200),
      'RSS idle (MiB)': Number(rssIdle.toFixed(1)),
      'RSS load max (MiB)': Number(rssLoadMax.toFixed(1)),
      'peak req/s': peak.reqPerSec,
      'peak p50 (ms)': peak.p50,
      'peak p99 (ms)': peak.p99,
      'half-rate req/s': half.reqPerSec,
      'half-rate p50 (ms)': half.p50,
      'half-rate p99 (ms)': half.p99,
      'errors+non2xx': peak.errors + peak.non2xx + half.errors + half.non2xx,
    };
  } finally {
    await removeContainer(engine, container.name);
  }
}

async function main(): Promise<void> {
  const engine = await detectEngine();
  process.stdout.write(
    `engine: ${engine.command}; ${DURATION_S} s per load phase, ${CONNECTIONS} connections\n`,
  );
  const buildStarted = performance.now();
  await engine.build(IMAGE);
  const buildMs = performance.now() - buildStarted;
  const sizeBytes = Number(
    await engine.mustRun(['image', 'inspect', '--format', '{{.Size}}', IMAGE]),
  );
  const gzBytes = await compressedSize(engine, IMAGE);
  const mb = (bytes: number) => (bytes / 1_000_000).toFixed(1);
  process.stdout.write(
    `image ${IMAGE}: ${mb(sizeBytes)} MB uncompressed, ${mb(gzBytes)} MB compressed (save | gzip -c); build ${Math.round(buildMs)} ms (cached layers count)\n`,
  );

  const rows = [];
  rows.push(
    await measureTarget(engine, 'service (Hono + auth)', {
      env: { ICLINIC_PASS: TOKEN },
      extraArgs: ['--read-only'],
    }),
  );
  rows.push(
    await measureTarget(engine, 'bare node:http, same image', {
      extraArgs: ['--read-only', '--entrypoint', '/usr/local/bin/node'],
      command: ['-e', BARE_SERVER],
    }).catch((error: Error) => ({ target: 'bare node:http', error: error.message })),
  );
  console.table(rows);
  process.stdout.write(`node ${process.version} (load generator: autocannon in this process)\n`);
  const [service, bare] = rows;
  const figure = (row: Record<string, string | number> | undefined, key: string) =>
    Number(row?.[key] ?? NaN);
  const ratio = figure(service, 'peak req/s') / figure(bare, 'peak req/s');
  const checks: [string, string, boolean][] = [
    ['throughput vs bare node:http', `${(ratio * 100).toFixed(0)}% (target >= 70%)`, ratio >= 0.7],
    [
      'p99 at half of peak',
      `${figure(service, 'half-rate p99 (ms)')} ms (target < 5 ms)`,
      figure(service, 'half-rate p99 (ms)') < 5,
    ],
    ['image compressed', `${mb(gzBytes)} MB (target <= 60 MB)`, gzBytes <= 60_000_000],
    [
      'start to first 200',
      `${figure(service, 'start→first 200 (ms)')} ms (target <= 300 ms)`,
      figure(service, 'start→first 200 (ms)') <= 300,
    ],
    [
      'RSS under load',
      `${figure(service, 'RSS load max (MiB)')} MiB (target < 100 MB)`,
      figure(service, 'RSS load max (MiB)') * 1.048576 < 100,
    ],
  ];
  for (const [what, value, met] of checks) {
    process.stdout.write(`${met ? 'met    ' : 'NOT met'}  ${what}: ${value}\n`);
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
