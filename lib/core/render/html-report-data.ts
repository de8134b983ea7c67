import type { Finding } from '../report.ts';
import { severitiesOf, type ListedFinding, type VmRow } from './html-report-model.ts';

/**
 * What report.html's script reads: one entry per row of the VM table, in its order, with what the
 * search, the filters and the drill-down need. Keys are short because a fleet has thousands of VMs.
 */
export interface ScriptVm {
  /** hostname, instance id, namespace, status */
  h: string | null;
  i: string;
  n: string | null;
  s: string;
  /** The findings that are causes (FAIL, ERROR or WAIVED) as [control, status], and their severities (waived ones left out). */
  c: Array<[string, string]>;
  v: string[];
  /** How many findings were not evaluated because of a cause; absent when none. */
  x?: number;
  /** ip, proxy, WorkloadEntry */
  ip: string | null;
  p: string | null;
  w: string | null;
  /** The drill-down's findings; absent when there is nothing to show. */
  f?: ScriptFinding[];
}

export interface ScriptFinding {
  /** control, status, severity, message */
  c: string;
  s: string;
  v: string;
  m: string;
  /** The subject, when it is the VM's proxy or WorkloadEntry rather than the VM. */
  k?: string;
  i?: string;
  /** Evidence, without the waiver (said in `w`); absent when empty. */
  e?: Record<string, unknown>;
  /** Index of the remediation in ScriptData.r (many findings share one). */
  r: number;
  w?: { justification: unknown; owner: unknown; expires: unknown };
  /** Findings not evaluated because of this one: control, status, message. */
  x?: Array<[string, string, string]>;
}

const JSON_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026' };

export interface ScriptData {
  r: string[];
  vms: ScriptVm[];
}

/**
 * The data block's text: JSON with every `<` escaped, so that no string a VM sent can end the block
 * (`</script>`) or open a comment in it, and `>` and `&` too, so that no text a VM sent is in the page as
 * it was sent, even where it would be inert. JSON.parse reads the escapes back.
 */
export function renderScriptData(rows: readonly VmRow[], drillDowns: ReadonlyMap<string, ListedFinding[]>): string {
  const remediations = new Map<string, number>();
  const remediation = (text: string): number => {
    let index = remediations.get(text);
    if (index === undefined) remediations.set(text, (index = remediations.size));
    return index;
  };
  const vms = rows.map(({ vm, anchor, causes, consequences }): ScriptVm => {
    const findings = anchor === undefined ? undefined : drillDowns.get(anchor);
    return {
      h: vm.hostname,
      i: vm.instanceId,
      n: vm.namespace,
      s: vm.status,
      c: causes.map((f): [string, string] => [f.control, f.status]),
      v: severitiesOf(causes),
      ...(consequences > 0 ? { x: consequences } : {}),
      ip: vm.ip,
      p: vm.proxyId,
      w: vm.workloadEntry,
      ...(findings ? { f: findings.map((listed) => scriptFinding(listed, vm.instanceId, remediation)) } : {}),
    };
  });
  const data: ScriptData = { r: [...remediations.keys()], vms };
  return JSON.stringify(data).replace(/[<>&]/g, (c) => JSON_ESCAPES[c]!);
}

function scriptFinding(
  { finding: f, consequences }: ListedFinding,
  instanceId: string,
  remediation: (text: string) => number,
): ScriptFinding {
  const { waiver, ...evidence } = f.evidence;
  const shown = f.status === 'WAIVED' ? evidence : f.evidence;
  const w = f.status === 'WAIVED' && typeof waiver === 'object' && waiver !== null ? (waiver as Record<string, unknown>) : undefined;
  return {
    c: f.control,
    s: f.status,
    v: f.severity,
    m: f.message,
    ...(f.subject.kind === 'vm' && f.subject.id === instanceId ? {} : { k: f.subject.kind, i: f.subject.id }),
    ...(Object.keys(shown).length > 0 ? { e: shown } : {}),
    r: remediation(f.remediation),
    ...(w ? { w: { justification: w.justification, owner: w.owner, expires: w.expires } } : {}),
    ...(consequences.length > 0 ? { x: consequences.map((c: Finding): [string, string, string] => [c.control, c.status, c.message]) } : {}),
  };
}
