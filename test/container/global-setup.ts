// Bundles server/ and builds the real Dockerfile once for the 'container'
// project, and hands the image tag and engine command to the tests through
// vitest's provide/inject.
// Throws (so the run fails, never skips) when no container engine exists.
import type { TestProject } from 'vitest/node';
import { detectEngine } from '../support/container-engine.js';

declare module 'vitest' {
  export interface ProvidedContext {
    containerEngine: string;
    containerImage: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const engine = await detectEngine();
  const image = `localhost/iclinic-api:test-${process.pid}`;
  const started = performance.now();
  await engine.build(image);
  process.stdout.write(
    `[container tests] built ${image} with ${engine.command} in ${Math.round(performance.now() - started)} ms\n`,
  );
  project.provide('containerEngine', engine.command);
  project.provide('containerImage', image);
  return async () => {
    await engine.run(['rmi', '-f', image]);
  };
}
