import { PassThrough } from 'node:stream';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';
// The handler is not re-exported by the package index; it is the one PortForward uses by default, given
// here a socket factory so the WebSocket handshake has a timeout and the socket can be torn down.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import WebSocket from 'ws';
import { SynczSchema } from '../core/evidence-bundle.ts';
import { httpGetOverStream } from './http-over-stream.ts';
import { classifyUpgradeError, ReadFailure } from './kube-mesh-read-problems.ts';

export interface SynczForwardOptions {
  /** Where istiod runs. */
  istioNamespace: string;
  /** istiod's HTTP monitoring port that serves /debug/syncz. */
  synczPort: number;
  /** For the whole port-forward and /debug/syncz exchange. */
  synczTimeoutMs: number;
  /** Largest syncz answer accepted. */
  maxSynczBytes: number;
}

/** istiod's /debug/syncz of one pod: HTTP/1.1 over a pods/portforward WebSocket to the monitoring port. */
export async function fetchIstiodSyncz(kc: KubeConfig, options: SynczForwardOptions, pod: string): Promise<unknown[]> {
  const port = options.synczPort;
  const where = `${options.istioNamespace}/${pod}:${port}`;
  const timeoutMs = options.synczTimeoutMs;
  const sockets: WebSocket[] = [];
  const output = new PassThrough();
  const errors = new PassThrough();
  const input = new PassThrough();
  let errorText = '';
  errors.on('data', (chunk: Buffer) => {
    if (errorText.length < 4096) errorText += chunk.toString('utf8');
  });
  const handler = new WebSocketHandler(kc, (uri: string, protocols: string[], opts: WebSocket.ClientOptions) => {
    const socket = new WebSocket(uri, protocols, { ...opts, handshakeTimeout: timeoutMs });
    sockets.push(socket);
    return socket;
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ReadFailure('timeout', `${where}: no complete /debug/syncz answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const exchange = async (): Promise<unknown[]> => {
    let ws: WebSocket;
    try {
      ws = (await new PortForward(kc, true, handler).portForward(
        options.istioNamespace,
        pod,
        [port],
        output,
        errors,
        input,
      )) as unknown as WebSocket;
    } catch (error) {
      throw classifyUpgradeError(where, error);
    }
    ws.on('close', () => output.end());
    const body = await httpGetOverStream(output, input, port, '/debug/syncz', options.maxSynczBytes).catch((error: unknown) => {
      if (error instanceof ReadFailure) throw error;
      // The kubelet reports a refused connection to the pod's port on the error channel and closes.
      if (errorText) throw new ReadFailure('port-forward-refused', `${where}: ${errorText.trim()}`);
      throw new ReadFailure('network', `${where}: ${(error as Error).message}`);
    });
    if (errorText) throw new ReadFailure('port-forward-refused', `${where}: ${errorText.trim()}`);
    if (body.status !== 200) throw new ReadFailure('http-error', `${where}: /debug/syncz answered HTTP ${body.status}`, body.status);
    let json: unknown;
    try {
      json = JSON.parse(body.text);
    } catch {
      throw new ReadFailure('invalid-response', `${where}: /debug/syncz answered a body that is not JSON (${body.text.length} bytes)`);
    }
    const parsed = SynczSchema.safeParse(json);
    if (!parsed.success)
      throw new ReadFailure('invalid-response', `${where}: /debug/syncz answered JSON that is not an array of proxy statuses`);
    return parsed.data;
  };
  const work = exchange();
  // Past the deadline the exchange may still fail while being torn down; that outcome is no longer wanted.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    for (const socket of sockets) socket.terminate();
    input.destroy();
    output.destroy();
    errors.destroy();
  }
}
