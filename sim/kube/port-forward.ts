import type { WebSocket, RawData } from 'ws';
import type { SimFaultPlan } from '../fault-plan.ts';
import type { ClusterEvidence } from '../../lib/core/evidence-bundle.ts';
import type { KubeApiFaults } from './api-faults.ts';

/**
 * kubelet's side of pods/portforward: the v4 channel protocol over the WebSocket, and istiod's /debug/syncz
 * answering HTTP/1.1 on port 15014 through it, with the faults a test asks for.
 */

const SYNCZ_PORT = 15014;
const MAX_FORWARDED_REQUEST_BYTES = 64 * 1024;
const CHUNKED_ABOVE_BYTES = 2048;

export interface IstiodPortForwardContext {
  cluster: ClusterEvidence;
  faults: KubeApiFaults;
  bursts: SimFaultPlan;
  clock: () => Date;
  /** The slow-target delay of the faults. */
  delay: (target: string) => Promise<void>;
  isClosing: () => boolean;
}

/** Returns what serves one forwarded WebSocket to a pod's port. */
export function istiodPortForward(context: IstiodPortForwardContext): (ws: WebSocket, pod: string, port: number) => void {
  const { cluster, faults, bursts, clock, delay } = context;

  const forwardPort = (ws: WebSocket, pod: string, port: number): void => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    // kubelet opens each channel with the port number, two bytes little-endian.
    ws.send(Buffer.concat([Buffer.from([0]), portBytes]));
    ws.send(Buffer.concat([Buffer.from([1]), portBytes]));
    if (port !== SYNCZ_PORT || faults.replicaDown?.includes(pod)) {
      const message =
        `an error occurred forwarding ${port} -> ${port}: error forwarding port ${port} to pod ${pod}, uid : ` +
        `failed to execute portforward in network namespace "/var/run/netns/cni-${pod}": failed to connect to localhost:${port} inside namespace "${pod}", ` +
        `IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `;
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(message)]), () => ws.close(1000));
      return;
    }
    let received = Buffer.alloc(0);
    let answered = false;
    ws.on('message', (data: RawData) => {
      const frame = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
      if (answered || frame.length < 1 || frame[0] !== 0) return;
      received = Buffer.concat([received, frame.subarray(1)]);
      if (received.length > MAX_FORWARDED_REQUEST_BYTES) return ws.close(1009);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      answered = true;
      const [method, target] = received.subarray(0, end).toString('latin1').split('\r\n')[0]!.split(' ');
      void answerIstiod(ws, pod, method ?? '', target ?? '');
    });
  };

  const answerIstiod = async (ws: WebSocket, pod: string, method: string, target: string): Promise<void> => {
    const send = (bytes: Buffer): void => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([0]), bytes]));
    };
    const date = clock().toUTCString();
    const path = target.split('?')[0];
    if (method !== 'GET' || path !== '/debug/syncz') {
      const body = '404 page not found\n';
      send(
        Buffer.from(
          `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: ${date}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ),
      );
      ws.close(1000);
      return;
    }
    await delay(`syncz/${pod}`);
    if (context.isClosing() || ws.readyState !== ws.OPEN) return;
    const burst = bursts.take(`syncz/${pod}`, pod);
    // No answer: the forwarded connection stays open until the client gives up.
    if (burst === 'timeout') return;
    if (burst !== undefined) {
      const [code, text] = burst === 'throttle' ? [503, 'Service Unavailable'] : [500, 'Internal Server Error'];
      const body = `${text}\n`;
      send(
        Buffer.from(
          `HTTP/1.1 ${code} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nDate: ${date}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ),
      );
      ws.close(1000);
      return;
    }
    const body = faults.garbledSyncz?.includes(pod)
      ? Buffer.from('<html><body>upstream connect error</body></html>')
      : Buffer.from(JSON.stringify(synczOf(pod)));
    const head = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: ${date}\r\n`;
    if (faults.truncatedSyncz?.includes(pod)) {
      send(
        Buffer.concat([
          Buffer.from(`${head}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
          body.subarray(0, Math.floor(body.length / 2)),
        ]),
      );
    } else if (body.length > CHUNKED_ABOVE_BYTES) {
      // Go's net/http switches to chunked encoding when a handler writes more than its buffer before returning.
      send(Buffer.from(`${head}Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n`));
      for (let offset = 0; offset < body.length; offset += 16 * 1024) {
        const chunk = body.subarray(offset, offset + 16 * 1024);
        send(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
      }
      send(Buffer.from('0\r\n\r\n'));
    } else {
      send(Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
    }
    ws.close(1000);
  };

  const synczOf = (pod: string): unknown[] => {
    const own = [...(cluster.syncz[pod] ?? [])];
    for (const moved of faults.movedProxies ?? []) {
      if (moved.alsoOn !== pod) continue;
      const entry = Object.entries(cluster.syncz)
        .filter(([replica]) => replica !== pod)
        .flatMap(([, entries]) => entries)
        .find((e) => (e as { proxy?: unknown } | null)?.proxy === moved.proxy);
      if (entry !== undefined) own.push(entry);
    }
    return own;
  };

  return forwardPort;
}
