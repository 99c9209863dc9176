// The probe cases every image of the service must answer, run against a
// running container: the image global-setup.ts builds from the repository
// (image.test.ts) and the one `up` builds and pushes from the packed package
// (package.test.ts).
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ContainerEngine,
  removeContainer,
  spawnTimed,
  startContainer,
  waitForHealthy,
  type StartedContainer,
} from '../support/container-engine.js';

const TOKEN = 'container-test-token-9f8e7d';

/** Sends one raw HTTP/1.1 request on an open socket and resolves with the full response text. */
function request(socket: ReturnType<typeof connect>, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const onData = (chunk: Buffer) => {
      data += chunk.toString();
      const headerEnd = data.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(data)?.[1];
      if (headerEnd >= 0 && length !== undefined && data.length >= headerEnd + 4 + Number(length)) {
        socket.off('data', onData);
        resolve(data);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(raw);
  });
}

/** Declares the probe suites for the image `imageRef()` names once the hooks run. */
export function describeServiceProbes(imageRef: () => string): void {
  const engine = new ContainerEngine(inject('containerEngine'));
  const started: string[] = [];
  let image = '';

  async function start(
    options: Parameters<typeof startContainer>[2] = {},
  ): Promise<StartedContainer> {
    const container = await startContainer(engine, image, options);
    started.push(container.name);
    return container;
  }

  beforeAll(() => {
    image = imageRef();
  });

  afterAll(async () => {
    for (const name of started) await removeContainer(engine, name);
  });

  describe('the running image', () => {
    let app: StartedContainer;

    beforeAll(async () => {
      app = await start({
        env: { ICLINIC_PASS: TOKEN },
        extraArgs: ['--read-only', '--cap-drop=ALL'],
      });
      await waitForHealthy(app.url);
    });

    it('answers 200 over the network with the token', async () => {
      const res = await fetch(`${app.url}/`, { headers: { Authorization: `Token ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ message: 'Hello from iclinic-deploy' });
    });

    it('answers 401 over the network without the token', async () => {
      const res = await fetch(`${app.url}/`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Token /);
    });

    it('answers 401 over the network with a wrong token', async () => {
      const res = await fetch(`${app.url}/`, { headers: { Authorization: 'Token wrong' } });
      expect(res.status).toBe(401);
    });

    it('serves /healthz without a token', async () => {
      const res = await fetch(`${app.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('runs with a read-only root filesystem', async () => {
      const readOnly = await engine.mustRun([
        'inspect',
        '--format',
        '{{.HostConfig.ReadonlyRootfs}}',
        app.name,
      ]);
      expect(readOnly).toBe('true');
    });

    it('runs the server as uid 1000, not root', async () => {
      const uid = await engine.mustRun([
        'exec',
        app.name,
        '/usr/local/bin/node',
        '-e',
        'process.stdout.write(String(process.getuid()) + ":" + String(process.getgid()))',
      ]);
      expect(uid).toBe('1000:1000');
      const user = await engine.mustRun([
        'image',
        'inspect',
        '--format',
        '{{.Config.User}}',
        image,
      ]);
      expect(user).toBe('1000:1000');
    });

    it('passes the health check command used by ECS (node /app/server.js --healthcheck)', async () => {
      const result = await engine.run([
        'exec',
        app.name,
        '/usr/local/bin/node',
        '/app/server.js',
        '--healthcheck',
      ]);
      expect(result.code).toBe(0);
    });

    it('ships no shell and no npm', async () => {
      expect((await engine.run(['exec', app.name, '/bin/sh', '-c', 'true'])).code).not.toBe(0);
      expect(
        (await engine.run(['exec', app.name, '/usr/local/bin/npm', '--version'])).code,
      ).not.toBe(0);
    });

    it('never writes the token or the Authorization header to its logs', async () => {
      await fetch(`${app.url}/`, { headers: { Authorization: `Token ${TOKEN}` } });
      await fetch(`${app.url}/`, { headers: { Authorization: 'Token some-wrong-token-value' } });
      const logs = await engine.run(['logs', app.name]);
      const all = logs.stdout + logs.stderr;
      expect(all).toContain('"status":200');
      expect(all).not.toContain(TOKEN);
      expect(all).not.toContain('some-wrong-token-value');
      expect(all.toLowerCase()).not.toContain('authorization');
    });
  });

  describe('start-up without a token', () => {
    it('exits non-zero with a clear message in the logs when ICLINIC_PASS is missing', async () => {
      const name = `iclinic-test-notoken-${process.pid}-${Date.now()}`;
      started.push(name);
      const result = await engine.run(['run', '--name', name, image], 60_000);
      expect(result.code).not.toBe(0);
      const logs = await engine.run(['logs', name]);
      expect(logs.stdout + logs.stderr).toMatch(/ICLINIC_PASS is not set or empty/);
    });
  });

  describe('shutdown', () => {
    it('on stop (SIGTERM) completes a request sent just before, closes keep-alive connections and exits 0 within 5 s', async () => {
      const app = await start({ env: { ICLINIC_PASS: TOKEN } });
      await waitForHealthy(app.url);
      const socket = connect(app.port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const raw = `GET / HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\nAuthorization: Token ${TOKEN}\r\n\r\n`;
      // A first request leaves an accepted, idle keep-alive connection behind.
      expect(await request(socket, raw)).toMatch(/^HTTP\/1\.1 200/);

      const second = request(socket, raw);
      const stop = spawnTimed(engine, ['stop', '-t', '10', app.name]);
      expect(await second).toMatch(/^HTTP\/1\.1 200[\s\S]*Hello from iclinic-deploy/);
      const stopped = await stop;
      await closed;

      expect(stopped.code).toBe(0);
      expect(stopped.ms).toBeLessThan(5_000);
      const exitCode = await engine.mustRun([
        'inspect',
        '--format',
        '{{.State.ExitCode}}',
        app.name,
      ]);
      expect(exitCode).toBe('0');
      const logs = await engine.run(['logs', app.name]);
      expect(logs.stdout).toMatch(/"msg":"shutting down","signal":"SIGTERM"/);
      expect(logs.stdout).toMatch(/"msg":"stopped"/);
    });
  });

  describe('token rotation in the container', () => {
    it('accepts the previous token until ICLINIC_PASS_PREVIOUS_UNTIL, then only the new one, without restart', async () => {
      const deadline = Date.now() + 4_000;
      const app = await start({
        env: {
          ICLINIC_PASS: 'new-token-abc',
          ICLINIC_PASS_PREVIOUS: 'old-token-xyz',
          ICLINIC_PASS_PREVIOUS_UNTIL: new Date(deadline).toISOString(),
        },
      });
      await waitForHealthy(app.url);
      const call = (token: string) =>
        fetch(`${app.url}/`, { headers: { Authorization: `Token ${token}` } }).then(
          (res) => res.status,
        );

      const beforeOld = await call('old-token-xyz');
      const beforeNew = await call('new-token-abc');
      expect(Date.now(), 'container took too long to start to observe the window').toBeLessThan(
        deadline - 200,
      );
      expect(beforeOld).toBe(200);
      expect(beforeNew).toBe(200);

      await new Promise((resolve) => setTimeout(resolve, deadline - Date.now() + 500));
      expect(await call('old-token-xyz')).toBe(401);
      expect(await call('new-token-abc')).toBe(200);
      const logs = await engine.run(['logs', app.name]);
      expect(logs.stdout + logs.stderr).not.toMatch(/old-token-xyz|new-token-abc/);
    });
  });
}
