// Reproduces what ECS does during `iclinic-deploy set-token`, with a local
// load balancer (test/support/rolling-proxy.ts) in front of real containers:
// two tasks with the old token are replaced one at a time
// (minimumHealthyPercent 100 / maximumPercent 200) by tasks that carry the new
// token and accept the old one until a deadline. A client using the old token
// from the start until the replacement is done, and a client using the new
// token from then on, must see no failed request.
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  ContainerEngine,
  removeContainer,
  startContainer,
  waitForHealthy,
  type StartedContainer,
} from '../support/container-engine.js';
import { RollingProxy } from '../support/rolling-proxy.js';

const engine = new ContainerEngine(inject('containerEngine'));
const image = inject('containerImage');
const OLD = 'rolling-old-token-5c1d2e';
const NEW = 'rolling-new-token-8a7b6f';
const GRACE_MS = 20_000;

const started: string[] = [];
let proxy: RollingProxy | undefined;

afterAll(async () => {
  for (const name of started) await removeContainer(engine, name);
  await proxy?.close();
});

async function start(env: Record<string, string>): Promise<StartedContainer> {
  const container = await startContainer(engine, image, { env, namePrefix: 'iclinic-rolling' });
  started.push(container.name);
  return container;
}

const target = (container: StartedContainer) => `127.0.0.1:${container.port}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ClientStats {
  ok: number;
  failed: number;
  failures: string[];
}

/**
 * Sends GET / with the token through the proxy from `workers` concurrent
 * loops, pausing `pauseMs` between requests, until stop() is called or the
 * hard limits (maxMs, maxRequests) are reached.
 */
function runClient(
  url: string,
  token: string,
  limits: { workers: number; pauseMs: number; maxMs: number; maxRequests: number },
): { stop: () => Promise<ClientStats>; finished: () => Promise<ClientStats> } {
  const stats: ClientStats = { ok: 0, failed: 0, failures: [] };
  const until = performance.now() + limits.maxMs;
  let stopped = false;
  const worker = async () => {
    while (!stopped && performance.now() < until && stats.ok + stats.failed < limits.maxRequests) {
      try {
        const res = await fetch(`${url}/`, {
          headers: { Authorization: `Token ${token}` },
          signal: AbortSignal.timeout(5_000),
        });
        const body = await res.text();
        if (res.status === 200) {
          stats.ok++;
        } else {
          stats.failed++;
          if (stats.failures.length < 10) stats.failures.push(`${res.status} ${body.trim()}`);
        }
      } catch (error) {
        stats.failed++;
        if (stats.failures.length < 10) stats.failures.push((error as Error).message);
      }
      await sleep(limits.pauseMs);
    }
  };
  const running = Promise.all(Array.from({ length: limits.workers }, worker));
  return {
    stop: async () => {
      stopped = true;
      await running;
      return stats;
    },
    finished: async () => {
      await running;
      return stats;
    },
  };
}

describe('rolling replacement behind a load balancer (set-token)', () => {
  it('serves every request with the old token during the replacement and with the new one after it', async () => {
    proxy = await RollingProxy.start();
    const lb = proxy;

    const olds = [await start({ ICLINIC_PASS: OLD }), await start({ ICLINIC_PASS: OLD })];
    for (const container of olds) {
      await waitForHealthy(container.url);
      lb.register(target(container));
    }
    const first = await fetch(`${lb.url}/`, { headers: { Authorization: `Token ${OLD}` } });
    expect(first.status).toBe(200);

    const deadline = Date.now() + GRACE_MS;
    const oldClient = runClient(lb.url, OLD, {
      workers: 3,
      pauseMs: 10,
      maxMs: 120_000,
      maxRequests: 50_000,
    });

    const news: StartedContainer[] = [];
    for (const old of olds) {
      const replacement = await start({
        ICLINIC_PASS: NEW,
        ICLINIC_PASS_PREVIOUS: OLD,
        ICLINIC_PASS_PREVIOUS_UNTIL: new Date(deadline).toISOString(),
      });
      news.push(replacement);
      await waitForHealthy(replacement.url);
      lb.register(target(replacement));
      // ECS deregisters the old task once the new target is healthy in the
      // target group; meanwhile both answer.
      await sleep(500);
      // Deregistration: no new requests to the old task from now on; the ones
      // already sent finish while the task handles SIGTERM.
      const drained = lb.deregister(target(old));
      await engine.mustRun(['stop', '-t', '10', old.name], 30_000);
      await drained;
    }
    const replacedAt = Date.now();
    const oldStats = await oldClient.stop();
    const servedDuringReplacement = news.map((container) => lb.served.get(target(container)) ?? 0);

    const newClient = runClient(lb.url, NEW, {
      workers: 2,
      pauseMs: 10,
      maxMs: 3_000,
      maxRequests: 50_000,
    });
    const newStats = await newClient.finished();

    console.log(
      `rolling replacement: old-token client ${oldStats.ok} ok / ${oldStats.failed} failed; ` +
        `new-token client ${newStats.ok} ok / ${newStats.failed} failed ` +
        `(replacement took ${Math.round((replacedAt - (deadline - GRACE_MS)) / 100) / 10} s of a ${GRACE_MS / 1000} s grace window)`,
    );
    expect(replacedAt, 'the replacement took longer than the grace window').toBeLessThan(
      deadline - 1_000,
    );

    expect(oldStats.failures).toEqual([]);
    expect(oldStats.failed).toBe(0);
    expect(oldStats.ok).toBeGreaterThan(100);
    expect(newStats.failures).toEqual([]);
    expect(newStats.failed).toBe(0);
    expect(newStats.ok).toBeGreaterThan(100);
    expect(lb.registered).toEqual(news.map(target));
    // Both new tasks took old-token traffic before the old tasks were gone.
    for (const count of servedDuringReplacement) expect(count).toBeGreaterThan(0);

    // After the deadline only the new token opens the door, on both tasks.
    await sleep(Math.max(0, deadline - Date.now() + 500));
    const statuses = async (token: string) => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${lb.url}/`, { headers: { Authorization: `Token ${token}` } });
        await res.text();
        out.push(res.status);
      }
      return out;
    };
    expect(await statuses(OLD)).toEqual([401, 401, 401, 401]);
    expect(await statuses(NEW)).toEqual([200, 200, 200, 200]);
    expect(lb.proxyErrors).toBe(0);
  });
});
