import { inject } from 'vitest';
import { describeServiceProbes } from './service-probes.js';

// The image global-setup.ts built from the repository's Dockerfile.
describeServiceProbes(() => inject('containerImage'));
