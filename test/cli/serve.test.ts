import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalApi } from '../../cli/commands/serve.ts';
import { ComplianceReportSchema } from '../../lib/core/compliance/compliance-report.ts';
import { ReportSchema } from '../../lib/core/report.ts';

// fleet-audit serve over real HTTP on loopback: the README's curl session, as a test.
describe('fleet-audit serve', () => {
  let store: string;
  let api: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    store = mkdtempSync(join(tmpdir(), 'fleet-audit-serve-'));
    api = await startLocalApi({ port: 0, store, vms: 12, seed: 4 }, { stderr: () => undefined, clock: () => new Date() }, 'test');
  });
  afterAll(async () => {
    await api?.close();
    rmSync(store, { recursive: true, force: true });
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/audits`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  async function untilDone(runId: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 200; i++) {
      const run = (await (await fetch(`${api.url}/audits/${runId}`)).json()) as Record<string, unknown>;
      if (run.status === 'DONE' || run.status === 'FAILED') return run;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`run ${runId} did not finish`);
  }

  it('starts an audit, which completes in the background, then serves its report in every format', async () => {
    const started = await post('{}', { 'idempotency-key': 'readme-1' });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    expect(started.headers.get('location')).toBe(`/audits/${runId}`);
    const replay = await post('{}', { 'idempotency-key': 'readme-1' });
    expect(((await replay.json()) as { runId: string }).runId).toBe(runId);

    expect(await untilDone(runId)).toMatchObject({ status: 'DONE', summary: { vms: 12 } });
    const report = await fetch(`${api.url}/audits/${runId}/report`);
    expect(ReportSchema.parse(await report.json()).runId).toBe(runId);
    const html = await fetch(`${api.url}/audits/${runId}/report?format=html`);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await html.text()).toMatch(/^<!doctype html>/);

    const listed = (await (await fetch(`${api.url}/audits?limit=5`)).json()) as { items: Array<{ runId: string }> };
    expect(listed.items.map((r) => r.runId)).toContain(runId);
    const compliance = ComplianceReportSchema.parse(await (await fetch(`${api.url}/compliance?since=30d`)).json());
    expect(compliance.runs.map((r) => r.runId)).toContain(runId);
  });

  it('audits one namespace of the simulated fleet', async () => {
    const all = (await (await post('{}')).json()) as { runId: string };
    const whole = await untilDone(all.runId);
    const report = ReportSchema.parse(await (await fetch(`${api.url}/audits/${all.runId}/report`)).json());
    const namespace = report.vms.find((vm) => vm.namespace)!.namespace!;
    const one = (await (await post(JSON.stringify({ namespace }))).json()) as { runId: string };
    const run = await untilDone(one.runId);
    expect((run.summary as { vms: number }).vms).toBeLessThan((whole.summary as { vms: number }).vms);
  });

  it('answers problems as application/problem+json', async () => {
    const bad = await post('{"instanceIds": "i-1"}');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect(await bad.json()).toMatchObject({ status: 400, instance: '/audits' });
    expect((await fetch(`${api.url}/audits/no-such-run`)).status).toBe(404);
    expect((await fetch(`${api.url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${api.url}/audits`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });
});
