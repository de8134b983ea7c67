import { describe, expect, it } from 'vitest';
import { parseReadiness } from '../../../lib/core/parsers/readiness.ts';

describe('parseReadiness', () => {
  it.each([
    ['http_code=200\ncurl_exit=0', 'ready', 200],
    ['http_code=503\ncurl_exit=0', 'not-ready', 503],
    ['http_code=000\ncurl_exit=7', 'refused', undefined],
    ['http_code=000\ncurl_exit=28', 'timeout', undefined],
    ['http_code=000\ncurl_exit=6', 'error', undefined],
  ])('%j is %s', (text, outcome, httpCode) => {
    expect(parseReadiness(text)).toMatchObject({ ok: true, value: { outcome, httpCode } });
  });

  it('keeps the URL that was probed', () => {
    expect(parseReadiness('url=http://127.0.0.1:15021/healthz/ready\nhttp_code=200\ncurl_exit=0')).toMatchObject({
      ok: true,
      value: { url: 'http://127.0.0.1:15021/healthz/ready' },
    });
  });

  it('is unavailable for a truncated section and for garbage', () => {
    expect(parseReadiness('url=http://127.0.0.1:15021/healthz/ready\nhttp_co')).toMatchObject({ ok: false });
    expect(parseReadiness('http_code=2000000\ncurl_exit=x')).toMatchObject({ ok: false });
  });
});
