// Load generators for npm run bench, each run as its own process pinned to
// the generator's core with taskset, so it never shares the server's core.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { exec } from '../test/support/container-engine.js';

export interface LoadFigures {
  reqPerSec: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  token: string;
  cpu: number;
  connections: number;
  durationS: number;
  /** Requests per second over all connections; unset = as fast as the server answers. */
  rate?: number;
}

export type Generator = (options: LoadOptions) => Promise<LoadFigures>;

const AUTOCANNON_BIN = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

export const autocannonLoad: Generator = async (o) => {
  const result = await exec(
    'taskset',
    [
      '-c',
      String(o.cpu),
      process.execPath,
      AUTOCANNON_BIN,
      '--json',
      '-c',
      String(o.connections),
      '-d',
      String(o.durationS),
      ...(o.rate ? ['--overallRate', String(o.rate)] : []),
      '-H',
      `authorization=Token ${o.token}`,
      `${o.url}/`,
    ],
    { timeoutMs: (o.durationS + 30) * 1000 },
  );
  if (result.code !== 0) throw new Error(`autocannon failed: ${result.stderr.slice(0, 500)}`);
  const json = JSON.parse(result.stdout) as {
    requests: { average: number };
    latency: { p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  return {
    reqPerSec: Math.round(json.requests.average),
    p99Ms: json.latency.p99,
    errors: json.errors + json.timeouts,
    non2xx: json.non2xx,
  };
};

/** wrk's "Latency  ... 99%  1.23ms" line, in ms. */
function wrkMs(text: string): number {
  const match = /([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!match) return NaN;
  const factor = { us: 0.001, ms: 1, s: 1000 }[match[2] as 'us' | 'ms' | 's'];
  return Number(match[1]) * factor;
}

/** wrk has no rate limit: only full-speed loads. */
export const wrkLoad: Generator = async (o) => {
  if (o.rate) throw new Error('wrk cannot hold a fixed rate; use autocannonLoad');
  const result = await exec(
    'taskset',
    [
      '-c',
      String(o.cpu),
      'wrk',
      '-t1',
      `-c${o.connections}`,
      `-d${o.durationS}s`,
      '--latency',
      '-H',
      `Authorization: Token ${o.token}`,
      `${o.url}/`,
    ],
    { timeoutMs: (o.durationS + 30) * 1000 },
  );
  if (result.code !== 0) throw new Error(`wrk failed: ${result.stderr.slice(0, 500)}`);
  const out = result.stdout;
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    out,
  );
  return {
    reqPerSec: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)),
    p99Ms: wrkMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ''),
    // Connection resets are how an HTTP/1.0 server (Flask's) ends each answer; not counted.
    errors: socketErrors ? Number(socketErrors[1]) + Number(socketErrors[4]) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
};

/** The generators present on this machine; says how to install a missing one. */
export function availableGenerators(): [string, Generator][] {
  const generators: [string, Generator][] = [['autocannon', autocannonLoad]];
  if (spawnSync('wrk', ['--version']).error) {
    process.stdout.write(
      'wrk not found: skipping it. Install it with `apt-get install -y wrk` (Debian/Ubuntu).\n',
    );
  } else {
    generators.push(['wrk', wrkLoad]);
  }
  if (spawnSync('taskset', ['-V']).error) {
    throw new Error(
      'taskset not found: it pins the load generator to its own core. Install util-linux.',
    );
  }
  return generators;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
