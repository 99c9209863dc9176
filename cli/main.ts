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

const { buildProgram } = await import('./program.js');
await buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
