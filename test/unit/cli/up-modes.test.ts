import { describe, expect, it } from 'vitest';
import { PLAIN_HTTP_WARNING, parseUp, upPlanNote } from '../../../cli/commands/up.js';
import { RecordingReporter } from '../support/context.js';
import { parsedCommand } from '../support/program.js';

const globals = {
  region: 'us-east-1',
  name: 'iclinic',
  json: false,
  yes: false,
  dryRun: false,
  verbose: false,
  timeout: 20,
};

/** `up` as cli/program.ts declares it, its options parsed from `args`. */
const upWith = (args: string[]) => parsedCommand('up', args);

describe('up modes', () => {
  it('puts CloudFront in front by default, with no warning', async () => {
    const report = new RecordingReporter();
    const settings = await parseUp(upWith([]), globals, report);
    expect(settings.cloudFront).toBe(true);
    expect(report.warnings).toEqual([]);
  });

  it('defaults to 256 CPU units, 512 MiB, the docker engine, 2 to 6 tasks and a final verification', async () => {
    const settings = await parseUp(upWith([]), globals, new RecordingReporter());
    expect(settings).toMatchObject({
      cpu: 256,
      memory: 512,
      engine: 'docker',
      minTasks: 2,
      maxTasks: 6,
      verify: true,
      showToken: false,
    });
    expect(settings.certificateArn).toBeUndefined();
    expect(settings.image).toBeUndefined();
  });

  it('--no-verify skips the final verification', async () => {
    const settings = await parseUp(upWith(['--no-verify']), globals, new RecordingReporter());
    expect(settings.verify).toBe(false);
  });

  it('--plain-http turns CloudFront off and warns that the token travels in clear text', async () => {
    const report = new RecordingReporter();
    const settings = await parseUp(upWith(['--plain-http']), globals, report);
    expect(settings.cloudFront).toBe(false);
    expect(report.warnings).toEqual([PLAIN_HTTP_WARNING]);
    expect(PLAIN_HTTP_WARNING).toMatch(/clear text/);
  });

  it("--certificate-arn serves the user's domain from the load balancer, without CloudFront", async () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    const settings = await parseUp(
      upWith(['--certificate-arn', arn]),
      globals,
      new RecordingReporter(),
    );
    expect(settings.cloudFront).toBe(false);
    expect(settings.certificateArn).toBe(arn);
  });

  it('refuses --plain-http with --certificate-arn, naming both', async () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    await expect(
      parseUp(upWith(['--plain-http', '--certificate-arn', arn]), globals, new RecordingReporter()),
    ).rejects.toThrow(/--plain-http and --certificate-arn arn:aws:acm.* contradict each other/);
  });
});

describe('up sizes', () => {
  it('a dry run without size flags says the defaults apply, whatever the stack has now', async () => {
    const settings = await parseUp(upWith([]), globals, new RecordingReporter());
    expect(upPlanNote(settings)).toMatch(
      /^Sizes not given are the defaults \(--cpu 256 --memory 512, 2 to 6 tasks\), whatever the stack has now/,
    );
  });

  it('says nothing more when a size is given', async () => {
    const settings = await parseUp(
      upWith(['--desired-count', '1']),
      globals,
      new RecordingReporter(),
    );
    expect(upPlanNote(settings)).toBeUndefined();
  });
});
