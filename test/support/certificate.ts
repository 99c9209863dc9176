import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCertificate {
  /** PEM files, for servers that read paths. */
  readonly certPath: string;
  readonly keyPath: string;
}

/**
 * A one-day self-signed certificate made with openssl (on every Debian and
 * macOS machine). `subjectAltName` is e.g. "IP:127.0.0.1" or
 * "DNS:api.example.test".
 */
export function selfSignedCertificate(
  commonName: string,
  subjectAltName: string,
  dir: string = mkdtempSync(join(tmpdir(), 'iclinic-tls-')),
): SelfSignedCertificate {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      `subjectAltName=${subjectAltName}`,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { certPath, keyPath };
}
