// Memory and image-size figures for npm run bench.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ContainerEngine } from '../test/support/container-engine.js';

/** VmRSS of a process in MiB, NaN when /proc does not show it. */
export function rssOfPid(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** RSS of the container's main process in MiB: /proc when visible, else the engine's stats. */
export async function rssOfContainer(engine: ContainerEngine, name: string): Promise<number> {
  const pid = Number(await engine.mustRun(['inspect', '--format', '{{.State.Pid}}', name]));
  const fromProc = rssOfPid(pid);
  if (!Number.isNaN(fromProc)) return fromProc;
  const usage = await engine.mustRun(['stats', '--no-stream', '--format', '{{.MemUsage}}', name]);
  const match = /([\d.]+)\s*([KMG]i?B)/i.exec(usage);
  if (!match) return NaN;
  const factor: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024 };
  return Number(match[1]) * (factor[match[2]?.[0]?.toLowerCase() ?? 'm'] ?? 1);
}

/** Bytes of `ENGINE save IMAGE | gzip -c` (what a registry roughly stores and transfers). */
export function compressedSize(engine: ContainerEngine, image: string): Promise<number> {
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
