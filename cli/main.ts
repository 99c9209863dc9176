#!/usr/bin/env node
// The AWS SDK warns, as soon as it loads, that its future releases will need
// Node 22; the tool supports Node 20 today (its lockfile pins SDK releases
// that do), so that notice is noise for its users. The SDK reads this switch
// when its first client is built.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `export AWS_REGION=` means "unset" to a user, but the SDK would take it as
// a region (or profile) named "" and skip ~/.aws/config.
if (process.env.AWS_REGION === '') delete process.env.AWS_REGION;
if (process.env.AWS_DEFAULT_REGION === '') delete process.env.AWS_DEFAULT_REGION;
if (process.env.AWS_PROFILE === '') delete process.env.AWS_PROFILE;

// `iclinic-deploy --help | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const { CommanderError } = await import('commander');
const { buildProgram } = await import('./program.js');
await buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      // Commander has printed its message; --help and --version end with 0,
      // and every mistake on the command line with 2, like the tool's own
      // usage errors.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
