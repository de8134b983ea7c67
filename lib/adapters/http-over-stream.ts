import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex, type PassThrough } from 'node:stream';
import { ReadFailure } from './kube-mesh-read-problems.ts';

/** Sends one HTTP/1.1 GET into a byte stream pair and reads the answer with Node's own HTTP parser. */
export async function httpGetOverStream(
  fromPod: PassThrough,
  toPod: PassThrough,
  port: number,
  path: string,
  maxBytes: number,
): Promise<{ status: number; text: string }> {
  const tunnel = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      toPod.write(chunk, callback);
    },
    final(callback) {
      callback();
    },
  });
  fromPod.on('data', (chunk: Buffer) => tunnel.push(chunk));
  fromPod.on('end', () => tunnel.push(null));
  fromPod.on('close', () => tunnel.push(null));
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      createConnection: () => tunnel as unknown as Socket,
      method: 'GET',
      path,
      headers: { Host: `localhost:${port}`, Accept: 'application/json', Connection: 'close' },
    });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy();
          reject(new ReadFailure('too-large', `the answer to ${path} exceeds ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', () => reject(new ReadFailure('invalid-response', `the answer to ${path} was cut off after ${size} bytes`)));
      res.on('end', () => {
        if (!res.complete) reject(new ReadFailure('invalid-response', `the answer to ${path} was cut off after ${size} bytes`));
        else resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end();
  });
}
