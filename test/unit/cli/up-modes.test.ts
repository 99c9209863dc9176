import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { PLAIN_HTTP_WARNING, parseUp, upPlanNote } from '../../../cli/commands/up.js';
import { RecordingReporter } from '../support/context.js';

const globals = {
  region: 'us-east-1',
  name: 'iclinic',
  json: false,
  yes: false,
  dryRun: false,
  verbose: false,
  timeout: 20,
};

/** The options of `up` that decide the mode (cli/program.ts declares the same), parsed from `args`. */
function upWith(args: string[]): Command {
  const command = new Command()
    .option('--cpu <n>', '', Number, 256)
    .option('--memory <n>', '', Number, 512)
    .option('--platform <p>', '', 'linux/amd64')
    .option('--engine <e>', '', 'docker')
    .option('--certificate-arn <arn>')
    .option('--plain-http', '', false)
    .option('--desired-count <n>', '', Number)
    .option('--no-verify');
  command.parse(['node', 'x', ...args]);
  return command;
}

describe('up modes', () => {
  it('puts CloudFront in front by default, with no warning', async () => {
    const report = new RecordingReporter();
    const settings = await parseUp(upWith([]), globals, report);
    expect(settings.cloudFront).toBe(true);
    expect(report.warnings).toEqual([]);
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
