import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invocationPath } from '../../lib/adapters/bundle-layout.ts';
import { LocalArtifactWriter, LocalBundle } from '../../lib/adapters/local-audit-store.ts';
import type { EvidenceBundle, Invocation } from '../../lib/core/evidence-bundle.ts';
import { MAX_VM_OUTPUT_BYTES } from '../../lib/core/evidence-limits.ts';
import { renderTerminalSummary } from '../../lib/core/render/terminal-summary.ts';
import { escapeHtml } from '../../lib/core/render/text.ts';
import { describeVm, renderVmDescription } from '../../lib/core/render/vm-description.ts';
import { ReportSchema, type Finding, type Report } from '../../lib/core/report.ts';
import { findingsByVm } from '../../lib/core/vm-findings.ts';
import { simClusterEvidence, simInstanceInformation, simInvocation } from '../../sim/cluster.ts';
import { buildSimFleetAsync, type SimFleet } from '../../sim/fleet.ts';
import { analyzeStoredBundle } from '../../lib/use-cases/analyze-bundle.ts';
import {
  binaryNoise,
  CSV_PAYLOADS,
  grownTo,
  grownWithTwoByteCharacters,
  HTML_PAYLOADS,
  INVALID_UTF8,
  nestedArrays,
  nestedObjects,
  RAW_BYTES_PLACEHOLDER,
  rebuild,
  takeApart,
  TERMINAL_PAYLOADS,
  tinyCutSectionName,
  tinyCutSections,
  tinyCutSectionsUnderTheLimit,
  withContent,
  type GenuineOutput,
} from '../support/hostile-outputs.ts';
import { formulaCells, htmlProblems, parseCsv, terminalProblems } from '../support/well-formed.ts';

/**
 * One VM of a healthy fleet prints something hostile instead of the diagnostic script's output. The bundle
 * goes to disk through the store's own writer and back through its reader and the analyze use case, as a
 * replayed run does. Whatever that VM printed, it may only harm its own row: every other VM reads exactly
 * as in the baseline run, the hostile VM is listed once, report.json is valid, every rendered file is
 * well-formed with nothing of the VM's text unescaped, and the report grows by a bounded amount.
 */

const NOW = new Date('2026-11-26T06:00:00.000Z');

/**
 * How much one hostile VM may grow report.json or report.html over the baseline, where that VM was healthy.
 * A VM's findings weigh 15 to 24 KB in report.json (measured on the 50-VM simulated fleet with every fault,
 * each VM's findings serialized as report.json does); 64 KB leaves room for every control of the hostile VM
 * to FAIL or ERROR with its bounded excerpt, and none for anything that grows with the output, which here is
 * a megabyte or more in most cases.
 */
const MAX_REPORT_GROWTH_BYTES = 64 * 1024;

interface Audit {
  report: Report;
  /** Every file the use case wrote, by name, as bytes. */
  files: Map<string, Buffer>;
  /** The size of the hostile VM's output in UTF-8 (0 in the baseline). */
  hostileBytes: number;
}

let dir: string;
let fleet: SimFleet;
let baseline: Audit;
let hostileId: string;
let genuine: GenuineOutput;
let caseCounter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-audit-hostile-'));
  fleet = await buildSimFleetAsync({ vms: 4, seed: 3, now: NOW, faults: [] });
  hostileId = fleet.vms[1]!.instanceId;
  genuine = takeApart(simInvocation(fleet, fleet.vms[1]!).StandardOutputContent!);
  baseline = await audit(undefined);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function bundleOf(hostileOutput: string | undefined): EvidenceBundle {
  const invocations: Record<string, Invocation> = {};
  for (const vm of fleet.vms) {
    const invocation = simInvocation(fleet, vm);
    invocations[vm.instanceId] =
      vm.instanceId === hostileId && hostileOutput !== undefined ? { ...invocation, StandardOutputContent: hostileOutput } : invocation;
  }
  return {
    manifest: { bundleVersion: 1, runId: 'hostile', startedAt: NOW.toISOString(), finishedAt: NOW.toISOString(), source: 'sim' },
    inventory: { InstanceInformationList: fleet.vms.map((vm) => simInstanceInformation(fleet, vm)) },
    invocations,
    cluster: simClusterEvidence(fleet),
  };
}

/**
 * Writes the fleet's bundle, with the hostile VM's output replaced, and analyzes it from disk. `rawBytes`
 * go in the stored file in place of RAW_BYTES_PLACEHOLDER, for bytes a JSON writer cannot write.
 */
async function audit(hostileOutput: string | undefined, rawBytes?: Buffer): Promise<Audit> {
  const root = join(dir, `case-${++caseCounter}`);
  const evidence = new LocalBundle(join(root, 'evidence'));
  const bundle = bundleOf(hostileOutput);
  await evidence.writeManifest(bundle.manifest);
  await evidence.writeInventory(bundle.inventory);
  for (const invocation of Object.values(bundle.invocations)) await evidence.writeInvocation(invocation);
  await evidence.writeCluster(bundle.cluster!);
  if (rawBytes) {
    const path = join(evidence.dir, invocationPath(bundle.invocations[hostileId]!));
    const stored = await readFile(path);
    const placeholder = Buffer.from(RAW_BYTES_PLACEHOLDER);
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = stored.indexOf(placeholder); at >= 0; at = stored.indexOf(placeholder, from)) {
      parts.push(stored.subarray(from, at), rawBytes);
      from = at + placeholder.length;
    }
    if (parts.length === 0) throw new Error('the hostile output holds no placeholder for raw bytes');
    parts.push(stored.subarray(from));
    await writeFile(path, Buffer.concat(parts));
  }
  try {
    const { report, written } = await analyzeStoredBundle(evidence, new LocalArtifactWriter(join(root, 'report')));
    const files = new Map<string, Buffer>();
    for (const path of written) files.set(basename(path), await readFile(path));
    return { report, files, hostileBytes: hostileOutput === undefined ? 0 : Buffer.byteLength(hostileOutput) };
  } finally {
    // The evidence of the largest cases is tens of megabytes: none of it outlives its case.
    await rm(join(root, 'evidence'), { recursive: true, force: true });
  }
}

const findingsOf = (audit: Audit, instanceId: string): Finding[] => findingsByVm(audit.report).get(instanceId) ?? [];
const ownFinding = (audit: Audit, control: string): Finding | undefined =>
  audit.report.findings.find((f) => f.control === control && f.subject.kind === 'vm' && f.subject.id === hostileId);
const rowOf = (audit: Audit) => audit.report.vms.find((vm) => vm.instanceId === hostileId);

/** The numbers a message names, thousands separators allowed (`4194305`, `4,194,305`). */
const numbersIn = (text: string): number[] => [...text.matchAll(/\d[\d,]*/g)].map((m) => Number(m[0].replaceAll(',', '')));

interface HostileCase {
  name: string;
  output: () => string;
  rawBytes?: Buffer;
  /** What the hostile VM's own row must say. */
  expectRow?: (audit: Audit) => void;
}

/**
 * An output over the limit: COLLECT-01 ERROR naming its size in bytes, and the VM UNKNOWN. The size named is
 * the output's own when it was read; when the stored record itself was too large to read, the record's
 * size is all a reader can name, so any size over the limit is accepted then.
 */
function expectTooLarge(sizeNamed: 'exact' | 'over the limit'): (audit: Audit) => void {
  return (a) => {
    expect(a.hostileBytes).toBeGreaterThan(MAX_VM_OUTPUT_BYTES);
    const collect = ownFinding(a, 'COLLECT-01');
    expect(collect?.status).toBe('ERROR');
    expect(collect?.message).toMatch(/bytes/);
    const sizes = numbersIn(collect?.message ?? '');
    if (sizeNamed === 'exact') expect(sizes).toContain(a.hostileBytes);
    else expect(Math.max(0, ...sizes)).toBeGreaterThan(MAX_VM_OUTPUT_BYTES);
    expect(rowOf(a)?.status).toBe('UNKNOWN');
  };
}

/** COLLECT-03 FAIL naming `sections`, and the VM never COMPLIANT. */
function expectIncomplete(...sections: string[]): (audit: Audit) => void {
  return (a) => {
    const complete = ownFinding(a, 'COLLECT-03');
    expect(complete?.status).toBe('FAIL');
    for (const name of sections) expect(complete?.message).toMatch(new RegExp(`(?<![\\w.-])${name.replace(/[.-]/g, '\\$&')}(?![\\w.-])`));
    expect(rowOf(a)?.status).not.toBe('COMPLIANT');
  };
}

const GARBAGE_SEED = 11;
const ENVOY_JSON_SECTIONS = [
  'envoy-server-info',
  'envoy-secrets-active',
  'envoy-secrets-warming',
  'envoy-clusters-active',
  'envoy-clusters-warming',
  'envoy-clusters-health',
];

const CASES: HostileCase[] = [
  {
    name: 'an output one byte over MAX_VM_OUTPUT_BYTES',
    output: () => grownTo(genuine, MAX_VM_OUTPUT_BYTES + 1),
    expectRow: expectTooLarge('exact'),
  },
  {
    name: 'an output over MAX_VM_OUTPUT_BYTES in UTF-8 bytes, under it in characters',
    output: () => grownWithTwoByteCharacters(genuine, MAX_VM_OUTPUT_BYTES + 1),
    expectRow: expectTooLarge('exact'),
  },
  {
    name: 'an output of exactly MAX_VM_OUTPUT_BYTES (still read)',
    output: () => grownTo(genuine, MAX_VM_OUTPUT_BYTES),
    expectRow: (a) => expect(ownFinding(a, 'COLLECT-01')?.status).toBe('PASS'),
  },
  {
    name: 'binary noise (every byte value, NUL and controls among them)',
    output: () => binaryNoise(GARBAGE_SEED, 64 * 1024),
    expectRow: (a) => {
      expect(ownFinding(a, 'COLLECT-01')?.status).toBe('ERROR');
      expect(rowOf(a)?.status).toBe('UNKNOWN');
    },
  },
  {
    name: 'lone surrogates, noncharacters and a byte-order mark in the genuine output',
    output: () =>
      withContent(genuine, {
        identity: `\ufeffhostname=ip-\ud800-\udfff-\ufffe\uffff\nips=10.0.0.1`,
        logs: `\ud83d\n\u0000\u0000\ufdd0${'\udc00'.repeat(100)}`,
      }),
  },
  {
    name: 'bytes that are not UTF-8 in the stored file, inside the genuine output',
    output: () =>
      withContent(genuine, {
        identity: `hostname=ip-${RAW_BYTES_PLACEHOLDER}\nips=10.0.0.1`,
        systemd: `ActiveState=${RAW_BYTES_PLACEHOLDER}`,
        logs: RAW_BYTES_PLACEHOLDER,
      }),
    rawBytes: INVALID_UTF8,
  },
  {
    name: 'ANSI and other terminal escapes where the report quotes the VM',
    output: () => {
      const all = TERMINAL_PAYLOADS.join('');
      return withContent(genuine, {
        identity: `hostname=${all}\nips=10.0.0.1`,
        systemd: `LoadState=loaded\nActiveState=${all}\nSubState=${all}\nUnitFileState=${all}`,
        readiness: `http_code=${all}\ncurl_exit=${all}`,
        logs: TERMINAL_PAYLOADS.join('\n'),
      });
    },
  },
  {
    name: 'HTML and script payloads where the report quotes the VM',
    output: () => {
      const all = HTML_PAYLOADS.join(' ');
      return withContent(genuine, {
        identity: `hostname=${HTML_PAYLOADS[0]}\nips=10.0.0.1`,
        systemd: `LoadState=loaded\nActiveState=${all}\nSubState=${HTML_PAYLOADS[1]}\nUnitFileState=${HTML_PAYLOADS[2]}`,
        readiness: `http_code=${HTML_PAYLOADS[3]}\ncurl_exit=${HTML_PAYLOADS[4]}`,
        'envoy-server-info': JSON.stringify({ version: all, state: HTML_PAYLOADS[0], node: { id: all } }),
        logs: HTML_PAYLOADS.join('\n'),
      });
    },
    expectRow: (a) => {
      // The payload did reach the page, escaped: the test is not vacuous.
      expect(a.files.get('report.html')?.toString('utf8')).toContain(escapeHtml(HTML_PAYLOADS[0]));
    },
  },
  {
    name: 'spreadsheet formulas where the report quotes the VM',
    output: () =>
      withContent(genuine, {
        identity: `hostname=${CSV_PAYLOADS[0]}\nips=10.0.0.1`,
        systemd: `LoadState=loaded\nActiveState=${CSV_PAYLOADS[1]}\nSubState=${CSV_PAYLOADS[2]}\nUnitFileState=${CSV_PAYLOADS[3]}`,
        readiness: `http_code=${CSV_PAYLOADS[4]}\ncurl_exit=${CSV_PAYLOADS[5]}`,
        logs: CSV_PAYLOADS.join('\n'),
      }),
  },
  {
    name: 'a million lines in the logs section',
    output: () => withContent(genuine, { logs: 'a\n'.repeat(1_000_000) }),
  },
  {
    name: 'a million lines in the envoy-stats section',
    output: () => withContent(genuine, { 'envoy-stats': 'a:1\n'.repeat(1_000_000) }),
  },
  {
    name: 'a million tiny sections, each cut',
    // About 66 MB: over the output limit, and its stored record over the bundle's limit for one invocation.
    output: () => tinyCutSections(1_000_000),
    expectRow: expectTooLarge('over the limit'),
  },
  {
    name: 'as many tiny cut sections as fit under MAX_VM_OUTPUT_BYTES',
    output: () => tinyCutSections(tinyCutSectionsUnderTheLimit()),
    expectRow: expectIncomplete(tinyCutSectionName(0)),
  },
  {
    name: 'every section duplicated, garbage first',
    output: () => rebuild(genuine, (s) => [{ ...s, content: binaryNoise(GARBAGE_SEED + s.name.length, 512) }, s]),
    expectRow: expectIncomplete('identity'),
  },
  {
    name: 'every section duplicated, garbage after the genuine one',
    output: () => rebuild(genuine, (s) => [s, { ...s, content: binaryNoise(GARBAGE_SEED + s.name.length, 512) }]),
    expectRow: expectIncomplete('identity'),
  },
  {
    name: 'an unknown section, cut',
    output: () =>
      rebuild(genuine, (s) =>
        s.name === 'logs' ? [s, { name: 'zz-unknown', content: 'x'.repeat(1000), rc: 0, cut: true, missing: [] }] : s,
      ),
    expectRow: expectIncomplete('zz-unknown'),
  },
  {
    name: 'known sections that do not parse',
    output: () => withContent(genuine, { 'envoy-server-info': binaryNoise(GARBAGE_SEED, 2048), systemd: '\u0000\u0000not=systemd\n=' }),
    expectRow: expectIncomplete('envoy-server-info'),
  },
  {
    name: 'deeply nested JSON in every Envoy section',
    output: () =>
      withContent(
        genuine,
        Object.fromEntries(ENVOY_JSON_SECTIONS.map((name, i) => [name, i === 0 ? nestedObjects(100_000) : nestedArrays(300_000)])),
      ),
    expectRow: (a) => expect(rowOf(a)?.status).not.toBe('COMPLIANT'),
  },
];

describe('the baseline: the simulated fleet with nothing hostile', () => {
  it('is read back from disk and every VM is COMPLIANT', () => {
    expect(baseline.report.vms.map((vm) => vm.status)).toEqual(fleet.vms.map(() => 'COMPLIANT'));
    expect([...baseline.files.keys()].sort()).toEqual(['report.csv', 'report.html', 'report.json', 'report.junit.xml', 'report.ocsf.json']);
  });

  it('renders well-formed files (the checks below can pass)', () => {
    expect(htmlProblems(baseline.files.get('report.html')!.toString('utf8'))).toEqual([]);
    expect(terminalProblems(renderTerminalSummary(baseline.report))).toEqual([]);
  });
});

describe.each(CASES)('one VM printing $name', (hostile) => {
  let result: Promise<Audit> | undefined;
  // One audit per case, shared by its tests, made when the first of them runs (so a failing case fails alone).
  const hostileAudit = (): Promise<Audit> => (result ??= audit(hostile.output(), hostile.rawBytes));

  it('is read and analyzed like any other', async () => {
    await expect(hostileAudit()).resolves.toBeDefined();
  });

  it("leaves every other VM's row and findings exactly as in the baseline", async () => {
    const a = await hostileAudit();
    const before = findingsByVm(baseline.report);
    for (const vm of baseline.report.vms.filter((v) => v.instanceId !== hostileId)) {
      expect(a.report.vms.find((v) => v.instanceId === vm.instanceId)).toEqual(vm);
      expect(findingsOf(a, vm.instanceId)).toEqual(before.get(vm.instanceId));
    }
  });

  it('lists the hostile VM exactly once', async () => {
    const a = await hostileAudit();
    expect(a.report.vms.filter((vm) => vm.instanceId === hostileId)).toHaveLength(1);
    expect(a.report.vms).toHaveLength(baseline.report.vms.length);
  });

  it('writes a report.json that ReportSchema accepts, the report returned', async () => {
    const a = await hostileAudit();
    const stored: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(a.files.get('report.json')));
    expect(ReportSchema.safeParse(stored).error).toBeUndefined();
    expect(stored).toEqual(JSON.parse(JSON.stringify(a.report)));
  });

  it('renders well-formed HTML, terminal text and CSV with nothing of the VM unescaped', async () => {
    const a = await hostileAudit();
    const html = new TextDecoder('utf-8', { fatal: true }).decode(a.files.get('report.html'));
    expect(htmlProblems(html)).toEqual([]);
    for (const payload of HTML_PAYLOADS) expect(html).not.toContain(payload);
    expect(terminalProblems(renderTerminalSummary(a.report))).toEqual([]);
    expect(terminalProblems(renderVmDescription(describeVm(a.report, rowOf(a)!)))).toEqual([]);
    for (const [name, body] of a.files) {
      if (!name.endsWith('.csv')) continue;
      const rows = parseCsv(body.toString('utf8'));
      expect(rows, `${name} is RFC 4180 CSV`).toBeDefined();
      expect(formulaCells(rows!)).toEqual([]);
    }
  });

  it(`grows report.json and report.html by at most ${MAX_REPORT_GROWTH_BYTES / 1024} KB`, async () => {
    const a = await hostileAudit();
    for (const name of ['report.json', 'report.html']) {
      const growth = a.files.get(name)!.length - baseline.files.get(name)!.length;
      expect(growth, `${name} grew by ${growth} bytes`).toBeLessThanOrEqual(MAX_REPORT_GROWTH_BYTES);
    }
  });

  const expectRow = hostile.expectRow;
  if (expectRow) {
    it("says what is wrong in the hostile VM's own row", async () => {
      expectRow(await hostileAudit());
    });
  }
});
