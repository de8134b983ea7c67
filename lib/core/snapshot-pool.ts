import type { CertificateInfo } from './certificates/pem.ts';
import type { SectionMeta } from './diagnostic-output.ts';
import { parseRule, type IptablesRule, type IptablesRuleset } from './parsers/iptables-save.ts';
import { BoundedMap } from './bounded-map.ts';

/**
 * The parts of VM snapshots that VMs of one fleet have in common, held once for the whole analysis.
 * Istio installs the same capture rules on every VM and every VM trusts the same root certificate, so
 * without sharing a 10,000-VM fleet holds 10,000 copies of each rule and of each CA certificate. A
 * snapshot's part is swapped for the pool's equal one as the VM is read; equal means built from the
 * same text, so no control can tell the two apart. Snapshots are read, never changed: sharing is safe.
 *
 * One pool serves one analysis (analyzeBundle, analyzeStoredBundle), and each of its maps is bounded,
 * so a fleet whose VMs share nothing costs what it costs without a pool.
 */
export class SnapshotPool {
  readonly #rules = new BoundedMap<string, IptablesRule | null>(MAX_SHARED_RULES);
  readonly #certificates = new BoundedMap<string, CertificateInfo>(MAX_SHARED_CERTIFICATES);
  readonly #sections = new BoundedMap<string, SectionMeta>(MAX_SHARED_VARIANTS);
  readonly #sectionLists = new BoundedMap<string, Map<string, SectionMeta>>(MAX_SHARED_VARIANTS);
  readonly #chains = new BoundedMap<string, IptablesRuleset['chains']>(MAX_SHARED_VARIANTS);

  /**
   * The rule of `line` in `table`: the pool's when it holds one, else parsed and held from now on. What the
   * pool holds is a copy that shares no memory with the output the line was cut from.
   */
  rule(table: string, line: string): IptablesRule | undefined {
    const key = `${table}\u0000${line}`;
    const held = this.#rules.get(key);
    if (held !== undefined) return held ?? undefined;
    const rule = parseRule(table, line);
    return this.#rules.shared(structuredClone(key), rule === undefined ? null : structuredClone(rule)) ?? undefined;
  }

  /** The pool's certificate equal to `certificate`: the same DER (same SHA-256), so the same fields. */
  certificate(certificate: CertificateInfo): CertificateInfo {
    return this.#certificates.shared(certificate.sha256Fingerprint, certificate);
  }

  /** The pool's section statuses equal to `sections` (most VMs print the same sections, ending the same way). */
  sections(sections: Map<string, SectionMeta>): Map<string, SectionMeta> {
    const keys: string[] = [];
    for (const [name, meta] of sections) {
      const key = `${meta.rc}\u0000${meta.cut}\u0000${meta.missing.join('\u0000')}`;
      sections.set(name, this.#sections.shared(key, meta));
      keys.push(`${name}\u0000${key}`);
    }
    return this.#sectionLists.shared(keys.join('\u0001'), sections);
  }

  /** The pool's chains and policies equal to `chains` (an iptables backend's, the same on most VMs). */
  chains(chains: IptablesRuleset['chains']): IptablesRuleset['chains'] {
    const key = JSON.stringify([...chains].map(([table, policies]) => [table, [...policies]]));
    return this.#chains.shared(key, chains);
  }
}

// Istio's capture is a few dozen rules per family; the cap leaves room for many variants of it.
const MAX_SHARED_RULES = 50_000;
// Every VM's leaf is its own: old ones are dropped, and a CA dropped with them is held again at its next VM.
const MAX_SHARED_CERTIFICATES = 4_096;
// Section statuses, lists of them and chain policies: a fleet has a few variants of each.
const MAX_SHARED_VARIANTS = 1_024;
