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
import { availableGenerators, median, type LoadFigures } from './load.js';
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

  const targets: Target[] = [];
  try {
    targets.push(
      await containerTarget(engine, 'service (Hono + token + log)', {
        env: { ICLINIC_PASS: TOKEN },
      }),
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
    const options = (url: string, durationS: number) => ({
      url,
      token: TOKEN,
      cpu: LOAD_CPU,
      connections: CONNECTIONS,
      durationS,
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
    }
    report(
      targets,
      generators.map(([name]) => name),
      runs,
      rssIdle,
      rssLoadMax,
      gzBytes,
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
    row['start→first 200 (ms)'] = Math.round(target.startMs);
    row['RSS idle (MiB)'] = Number((rssIdle[index] ?? NaN).toFixed(1));
    row['RSS load max (MiB)'] = Number((rssLoadMax[index] ?? NaN).toFixed(1));
    return row;
  });
  console.table(rows);
  for (const name of generatorNames) {
    const [service, bare, flask] = [0, 1, 2].map((i) => medianOf(name, i, (f) => f.reqPerSec));
    const ratio = (service ?? NaN) / (bare ?? NaN);
    process.stdout.write(
      `${name}: service/bare ${(ratio * 100).toFixed(0)}% (target >= 80%: ${ratio >= 0.8 ? 'met' : 'NOT met'}), ` +
        `service/Flask ${((service ?? NaN) / (flask ?? NaN)).toFixed(1)}x\n`,
    );
  }
  const rss = rssLoadMax[0] ?? NaN;
  process.stdout.write(
    `service RSS idle ${(rssIdle[0] ?? NaN).toFixed(1)} MiB (aim < 50), under load ${rss.toFixed(1)} MiB (target < 100 MB: ${rss * 1.048576 < 100 ? 'met' : 'NOT met'}); ` +
      `image ${mb(gzBytes)} MB compressed (target <= 60 MB)\n`,
  );
  process.stdout.write(
    `node ${process.version} runs the generators; the image runs its own node\n`,
  );
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
