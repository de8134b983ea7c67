import type { IptablesRule, IptablesRuleset } from '../parsers/iptables-save.ts';
import { captureView, iptablesCaptureView, isTcpJump, isTproxyMode, natRules, tableRules } from '../traffic-capture.ts';
import { error, fail, pass, skip, vmControl } from './control.ts';
import { unlessOperatorCapture } from './operator-capture.ts';

/** Targets that send a TCP connection somewhere else than the address it was made to. */
const REWRITING_TARGETS = new Set(['DNAT', 'REDIRECT']);

/**
 * NET-06: Istio's inbound capture must see a connection before anything that rewrites it. A rule that DNATs
 * or REDIRECTs TCP in nat PREROUTING ahead of the jump to ISTIO_INBOUND, or a jump to a chain that does
 * (Docker's `-j DOCKER` for published ports is the common case, istio/istio#29518), lets that traffic
 * bypass the sidecar while every Istio rule is in place.
 */
export const net06 = vmControl(
  {
    id: 'NET-06',
    severity: 'MEDIUM',
    title: 'Inbound capture comes first in PREROUTING',
    remediation:
      'Run `iptables-save -t nat` and look at the order of PREROUTING: the `-j ISTIO_INBOUND` rule must come first. Restart the istio unit after ' +
      'the service that inserted its rule (`systemctl restart istio` after docker), or order them in the unit files (`After=docker.service`).',
  },
  (_vm, snapshot) =>
    unlessOperatorCapture(snapshot, () => {
      if (!snapshot.clusterEnv.ok) return error(snapshot.clusterEnv.reason);
      if ((snapshot.clusterEnv.value.get('ISTIO_INBOUND_PORTS') ?? '').trim() === '')
        return skip('inbound capture is off (ISTIO_INBOUND_PORTS is empty)');
      const view = captureView(snapshot);
      if (!view.ok) return error(view.reason);
      const { ruleset, section } = view.value.effective;
      const prerouting = natRules(ruleset, 'PREROUTING');
      const evidence = { backend: section, prerouting: prerouting.map((r) => r.text).slice(0, 30) };
      // The mangle table's PREROUTING hook runs before nat's (netfilter priority -150 against -100).
      if (isTproxyMode(snapshot.clusterEnv.value)) {
        if (!tableRules(ruleset, 'mangle', 'PREROUTING').some((r) => isTcpJump(r, 'ISTIO_INBOUND')))
          return skip('mangle PREROUTING has no jump to ISTIO_INBOUND (NET-02 reports the missing capture)', evidence);
        return pass(
          `inbound capture is TPROXY in mangle PREROUTING, which sees TCP before any nat rule rewrites it (${section})`,
          evidence,
        );
      }
      const istio = prerouting.findIndex((r) => isTcpJump(r, 'ISTIO_INBOUND'));
      if (istio < 0) return skip('PREROUTING has no jump to ISTIO_INBOUND (NET-02 reports the missing capture)', evidence);
      const rewriting = chainsRewritingTcp(ruleset);
      const ahead = prerouting
        .slice(0, istio)
        .filter((r) => rewritesTcp(r) || (carriesTcp(r) && r.target !== undefined && rewriting.has(r.target)));
      if (ahead.length === 0 && section === 'nftables') {
        // iptables' nat PREROUTING (Docker's, say) hooks at dstnat like Istio's table, and nftables does
        // not define the order of two base chains of the same hook and priority.
        const iptables = iptablesCaptureView(snapshot);
        const elsewhere = iptables.ok ? iptablesRewriting(iptables.value.effective.ruleset) : [];
        if (elsewhere.length > 0) {
          return error(
            `iptables' nat PREROUTING rewrites TCP at the same hook and priority as Istio's nftables prerouting, in an order nftables does not define: ${elsewhere.join('; ')}`,
            { ...evidence, iptablesRewriting: elsewhere },
          );
        }
      }
      if (ahead.length === 0) return pass(`PREROUTING sends TCP to ISTIO_INBOUND before any rule that rewrites it (${section})`, evidence);
      return fail(
        `PREROUTING rewrites TCP before the jump to ISTIO_INBOUND, so that traffic bypasses the sidecar: ${ahead.map((r) => r.text).join('; ')}`,
        { ...evidence, ahead: ahead.map((r) => r.text) },
      );
    }),
);

/** The rules of nat PREROUTING that rewrite TCP, or jump to a chain that does. */
function iptablesRewriting(ruleset: IptablesRuleset): string[] {
  const rewriting = chainsRewritingTcp(ruleset);
  return natRules(ruleset, 'PREROUTING')
    .filter((r) => rewritesTcp(r) || (carriesTcp(r) && r.target !== undefined && rewriting.has(r.target)))
    .map((r) => r.text);
}

/** A rule that can match TCP: no protocol, or `-p tcp`. */
function carriesTcp(rule: IptablesRule): boolean {
  return rule.protocol === undefined || (!rule.protocol.negated && rule.protocol.value === 'tcp');
}

/** A rule that itself DNATs or REDIRECTs TCP. */
function rewritesTcp(rule: IptablesRule): boolean {
  return rule.target !== undefined && REWRITING_TARGETS.has(rule.target) && carriesTcp(rule);
}

/** The nat chains from which TCP can reach a DNAT or REDIRECT, Istio's own left out; one pass per chain, cycles tolerated. */
function chainsRewritingTcp(ruleset: IptablesRuleset): Set<string> {
  const byChain = new Map<string, IptablesRule[]>();
  for (const rule of ruleset.rules) {
    if (rule.table !== 'nat') continue;
    const list = byChain.get(rule.chain) ?? [];
    list.push(rule);
    byChain.set(rule.chain, list);
  }
  const memo = new Map<string, boolean>();
  const visit = (chain: string): boolean => {
    const known = memo.get(chain);
    if (known !== undefined) return known;
    memo.set(chain, false);
    const result = (byChain.get(chain) ?? []).some(
      (r) => rewritesTcp(r) || (carriesTcp(r) && r.target !== undefined && byChain.has(r.target) && visit(r.target)),
    );
    memo.set(chain, result);
    return result;
  };
  return new Set([...byChain.keys()].filter((chain) => !chain.startsWith('ISTIO_') && visit(chain)));
}
