/**
 * Real requests for the API-model tests: the installed SDK serializes a
 * command to a local server that keeps the request and refuses it, and the
 * proxy's parser turns it into the AwsRequest the rules see. The wire form
 * is the SDK's own, never written by hand.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAwsRequest, type RawRequest } from '../../support/strict-aws/protocol.js';
import type { AwsRequest } from '../../support/strict-aws/types.js';

export interface SdkCapture {
  /** The client config that sends to the capture server. */
  readonly config: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
  };
  /** Runs `send` (which fails: the server refuses) and returns the request it made. */
  capture(send: () => Promise<unknown>): Promise<AwsRequest>;
  stop(): Promise<void>;
}

export async function startSdkCapture(): Promise<SdkCapture> {
  let last: RawRequest | undefined;
  const server: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      last = {
        method: incoming.method ?? 'GET',
        url: incoming.url ?? '/',
        headers: incoming.headers,
        body: Buffer.concat(chunks),
      };
      response.writeHead(400, { 'content-type': 'text/plain' }).end('captured');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    config: {
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    },
    async capture(send) {
      last = undefined;
      await send().catch(() => undefined);
      const request = last === undefined ? undefined : parseAwsRequest(last);
      if (request === undefined) throw new Error('the SDK sent no request the proxy can parse');
      return request;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
