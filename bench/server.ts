// Measures the service image against two baselines in one run: a bare
// node:http server in the same image returning the same bytes, and the
// challenge's Flask app on Flask's development server. Prints figures;
// asserts nothing.
//
//   npm run bench          (wrk: apt-get install -y wrk; skipped when missing)
//
// Servers are pinned to one core (BENCH_SERVER_CPU, default 1), load
// generators to another (BENCH_LOAD_CPU, default 0). Each round loads every
// target once with every generator, interleaved so background noise falls on
// all alike; the table shows the median of BENCH_ROUNDS rounds (default 3).
// Each round also holds the service and the bare server at half of the
// rate autocannon reached on them in that round (p99 at half rate), and
// before the loads the service is started BENCH_ROUNDS times more to time
// `run` to its first 200 (median).
// Env also: CONTAINER_ENGINE (default: podman, else docker), BENCH_DURATION_S
// (seconds per load, default 10), BENCH_CONNECTIONS (default 32),
// BENCH_PYTHON (default python3). All traffic stays on 127.0.0.1.
import {
  detectEngine,
  removeContainer,
  startContainer,
  waitForHealthy,
  type ContainerEngine,
} from '../test/support/container-engine.js';
import { ensureFlask, startFlask } from './flask.js';
import { autocannonLoad, availableGenerators, median, type LoadFigures } from './load.js';
import { compressedSize, rssOfContainer, rssOfPid } from './measure.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SERVER_CPU = Number(process.env.BENCH_SERVER_CPU ?? 1);
const LOAD_CPU = Number(process.env.BENCH_LOAD_CPU ?? 0);
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

interface Target {
  label: string;
  url: string;
  rss: () => Promise<number>;
  startMs: number;
  stop: () => Promise<void>;
}

async function containerTarget(
  engine: ContainerEngine,
  label: string,
  options: Parameters<typeof startContainer>[2],
): Promise<Target> {
  const t0 = performance.now();
  const container = await startContainer(engine, IMAGE, {
    namePrefix: 'iclinic-bench',
    ...options,
    extraArgs: ['--read-only', `--cpuset-cpus=${SERVER_CPU}`, ...(options?.extraArgs ?? [])],
  });
  try {
    await waitForHealthy(container.url, 60_000);
  } catch (error) {
    await removeContainer(engine, container.name);
    throw error;
  }
  return {
    label,
    url: container.url,
    startMs: performance.now() - t0,
    rss: () => rssOfContainer(engine, container.name),
    stop: () => removeContainer(engine, container.name),
  };
}

async function flaskTarget(): Promise<Target> {
  await ensureFlask();
  const t0 = performance.now();
  const flask = await startFlask(TOKEN, SERVER_CPU);
  return {
    label: 'Flask app of the challenge',
    url: flask.url,
    startMs: performance.now() - t0,
    rss: async () => rssOfPid(flask.pid),
    stop: async () => flask.stop(),
  };
}

const mb = (bytes: number) => (bytes / 1_000_000).toFixed(1);

const SERVICE_OPTIONS = { env: { ICLINIC_PASS: TOKEN } };

/** Median ms from `ENGINE run` to the service's first 200 on /healthz, over `times` fresh starts. */
async function medianStartMs(engine: ContainerEngine, times: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const target = await containerTarget(engine, 'start-up probe', SERVICE_OPTIONS);
    samples.push(target.startMs);
    await target.stop();
  }
  return median(samples);
}

async function main(): Promise<void> {
  const engine = await detectEngine();
  const generators = availableGenerators();
  process.stdout.write(
    `engine: ${engine.command}; servers on CPU ${SERVER_CPU}, load on CPU ${LOAD_CPU}; ` +
      `${ROUNDS} rounds of ${DURATION_S} s per target and generator, ${CONNECTIONS} connections\n`,
  );
  await engine.build(IMAGE);
  const sizeBytes = Number(
    await engine.mustRun(['image', 'inspect', '--format', '{{.Size}}', IMAGE]),
  );
  const gzBytes = await compressedSize(engine, IMAGE);
  process.stdout.write(
    `image ${IMAGE}: ${mb(sizeBytes)} MB uncompressed, ${mb(gzBytes)} MB compressed (save | gzip -c)\n`,
  );

  const startMs = await medianStartMs(engine, ROUNDS);
  const targets: Target[] = [];
  try {
    targets.push(
      await containerTarget(engine, 'service (Hono + token + log)', SERVICE_OPTIONS),
      await containerTarget(engine, 'bare node:http, same image', {
        extraArgs: ['--entrypoint', '/usr/local/bin/node'],
        command: ['-e', BARE_SERVER],
      }),
      await flaskTarget(),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rssIdle = await Promise.all(targets.map((target) => target.rss()));
    const rssLoadMax = targets.map(() => 0);
    const runs = new Map<string, LoadFigures[]>();
    const options = (url: string, durationS: number, rate?: number) => ({
      url,
      token: TOKEN,
      cpu: LOAD_CPU,
      connections: CONNECTIONS,
      durationS,
      rate,
    });
    for (const [, generate] of generators) {
      for (const target of targets) await generate(options(target.url, 3)); // warm-up (JIT)
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, generate] of generators) {
        for (const [index, target] of targets.entries()) {
          const sampler = setInterval(() => {
            target.rss().then(
              (value) => (rssLoadMax[index] = Math.max(rssLoadMax[index] ?? 0, value)),
              () => undefined,
            );
          }, 1_000);
          const figures = await generate(options(target.url, DURATION_S)).finally(() =>
            clearInterval(sampler),
          );
          process.stdout.write(
            `round ${round} ${name.padEnd(10)} ${target.label.padEnd(30)} ${figures.reqPerSec} req/s\n`,
          );
          runs.set(`${name} ${index}`, [...(runs.get(`${name} ${index}`) ?? []), figures]);
        }
      }
      // Flask's HTTP/1.0 answers defeat autocannon (see the README): service and bare only.
      for (const [index, target] of targets.slice(0, 2).entries()) {
        const peak = runs.get(`autocannon ${index}`)?.at(-1)?.reqPerSec ?? NaN;
        const rate = Math.max(1, Math.round(peak / 2));
        const figures = await autocannonLoad(options(target.url, DURATION_S, rate));
        process.stdout.write(
          `round ${round} ${'half rate'.padEnd(10)} ${target.label.padEnd(30)} ${figures.reqPerSec} req/s, p99 ${figures.p99Ms} ms\n`,
        );
        runs.set(`half ${index}`, [...(runs.get(`half ${index}`) ?? []), figures]);
      }
    }
    report(
      targets,
      generators.map(([name]) => name),
      runs,
      rssIdle,
      rssLoadMax,
      gzBytes,
      startMs,
    );
  } finally {
    for (const target of targets) await target.stop();
  }
}

function report(
  targets: Target[],
  generatorNames: string[],
  runs: Map<string, LoadFigures[]>,
  rssIdle: number[],
  rssLoadMax: number[],
  gzBytes: number,
  startMs: number,
): void {
  const medianOf = (name: string, index: number, pick: (f: LoadFigures) => number) =>
    median((runs.get(`${name} ${index}`) ?? []).map(pick));
  const rows = targets.map((target, index) => {
    const row: Record<string, string | number> = { target: target.label };
    for (const name of generatorNames) {
      row[`${name} req/s (median)`] = medianOf(name, index, (f) => f.reqPerSec);
      row[`${name} p99 (ms)`] = medianOf(name, index, (f) => f.p99Ms);
      row[`${name} errors+non2xx`] = (runs.get(`${name} ${index}`) ?? []).reduce(
        (sum, f) => sum + f.errors + f.non2xx,
        0,
      );
    }
    const half = runs.get(`half ${index}`) ?? [];
    row['half-rate req/s'] = half.length ? medianOf('half', index, (f) => f.reqPerSec) : '—';
    row['half-rate p99 (ms)'] = half.length ? medianOf('half', index, (f) => f.p99Ms) : '—';
    row['half-rate errors+non2xx'] = half.reduce((sum, f) => sum + f.errors + f.non2xx, 0);
    row['start→first 200 (ms)'] = Math.round(target.startMs);
    row['RSS idle (MiB)'] = Number((rssIdle[index] ?? NaN).toFixed(1));
    row['RSS load max (MiB)'] = Number((rssLoadMax[index] ?? NaN).toFixed(1));
    return row;
  });
  console.table(rows);
  const checks: [string, string, boolean][] = [];
  for (const name of generatorNames) {
    const [service, bare, flask] = [0, 1, 2].map((i) => medianOf(name, i, (f) => f.reqPerSec));
    const ratio = (service ?? NaN) / (bare ?? NaN);
    checks.push([
      `${name}: service / bare node:http`,
      `${(ratio * 100).toFixed(0)}% (target >= 80%; service/Flask ${((service ?? NaN) / (flask ?? NaN)).toFixed(1)}x)`,
      ratio >= 0.8,
    ]);
  }
  const halfP99 = medianOf('half', 0, (f) => f.p99Ms);
  checks.push(['service p99 at half of its peak', `${halfP99} ms (target < 5 ms)`, halfP99 < 5]);
  checks.push([
    'service start to first 200',
    `${Math.round(startMs)} ms, median of ${ROUNDS} starts (target <= 300 ms)`,
    startMs <= 300,
  ]);
  const idle = rssIdle[0] ?? NaN;
  checks.push(['service RSS idle', `${idle.toFixed(1)} MiB (aim < 50 MiB)`, idle < 50]);
  const loaded = rssLoadMax[0] ?? NaN;
  checks.push([
    'service RSS under load',
    `${loaded.toFixed(1)} MiB (target < 100 MB)`,
    loaded * 1.048576 < 100,
  ]);
  checks.push(['image compressed', `${mb(gzBytes)} MB (target <= 60 MB)`, gzBytes <= 60_000_000]);
  for (const [what, value, met] of checks) {
    process.stdout.write(`${met ? 'met    ' : 'NOT met'}  ${what}: ${value}\n`);
  }
  process.stdout.write(
    `node ${process.version} runs the generators; the image runs its own node\n`,
  );
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
