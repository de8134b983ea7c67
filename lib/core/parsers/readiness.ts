import type { Evidence } from '../result.ts';
import { parseKeyValueLines } from './key-value.ts';

export type ReadinessOutcome = 'ready' | 'not-ready' | 'refused' | 'timeout' | 'error';

export interface Readiness {
  outcome: ReadinessOutcome;
  /** HTTP status code; undefined when no HTTP answer came. */
  httpCode: number | undefined;
  curlExit: number | undefined;
  url: string | undefined;
}

/**
 * Parses the readiness section: `http_code` is curl's `%{http_code}` (000 when no answer) and
 * `curl_exit` its exit status (curl(1) "EXIT CODES": 7 could not connect, 28 timed out).
 * `localhost:15021/healthz/ready` answers 200 or 503 with no body (Istio pilot-agent status server).
 */
export function parseReadiness(text: string): Evidence<Readiness> {
  const kv = parseKeyValueLines(text);
  const code = kv.get('http_code');
  const exit = kv.get('curl_exit');
  const httpCode = code !== undefined && /^\d{3}$/.test(code) && code !== '000' ? Number(code) : undefined;
  const curlExit = exit !== undefined && /^\d{1,3}$/.test(exit) ? Number(exit) : undefined;
  if (httpCode === undefined && curlExit === undefined) {
    return { ok: false, reason: 'the readiness section holds neither an HTTP code nor a curl exit status' };
  }
  let outcome: ReadinessOutcome;
  if (httpCode === 200) outcome = 'ready';
  else if (httpCode !== undefined) outcome = 'not-ready';
  else if (curlExit === 7) outcome = 'refused';
  else if (curlExit === 28) outcome = 'timeout';
  else outcome = 'error';
  return { ok: true, value: { outcome, httpCode, curlExit, url: kv.get('url') } };
}
