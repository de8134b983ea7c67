import type { IptablesRule, IptablesRuleset } from '../parsers/iptables-save.ts';
import {
  captureView,
  hasIstioChains,
  hasTcpDport,
  isDnsRedirect,
  isReturnFor,
  isTcpJump,
  isTcpRedirectTo,
  isTcpTproxyTo,
  isTproxyMode,
  natRules,
  tableRules,
} from '../traffic-capture.ts';
import { error, fail, pass, skip, TIMED_OUT, vmControl, withEvidence } from './control.ts';
import { unlessOperatorCapture } from './operator-capture.ts';

const IPTABLES_REMEDIATION =
  'Compare `iptables-save -t nat` on the VM with the rules istio-iptables installs; `systemctl restart istio` reinstalls them ' +
  '(the agent runs istio-iptables at start).';

const rulesText = (rules: IptablesRule[]): string[] => rules.map((r) => r.text);

/** NET-01: outbound capture is installed (OUTPUT → ISTIO_OUTPUT → ISTIO_REDIRECT → 15001). */
export const net01 = vmControl(
  { id: 'NET-01', severity: 'HIGH', title: 'Outbound traffic captured', remediation: IPTABLES_REMEDIATION },
  (_vm, snapshot) =>
    unlessOperatorCapture(snapshot, () =>
      withEvidence(captureView(snapshot), ({ effective }) => {
        const { ruleset, section } = effective;
        const missing: string[] = [];
        if (!natRules(ruleset, 'OUTPUT').some((r) => isTcpJump(r, 'ISTIO_OUTPUT'))) missing.push('OUTPUT -p tcp -j ISTIO_OUTPUT');
        const output = natRules(ruleset, 'ISTIO_OUTPUT');
        if (!output.some((r) => isReturnFor(r, '127.0.0.1/32'))) missing.push('ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN');
        if (!output.some((r) => r.target === 'ISTIO_REDIRECT')) missing.push('ISTIO_OUTPUT … -j ISTIO_REDIRECT');
        if (!natRules(ruleset, 'ISTIO_REDIRECT').some((r) => isTcpRedirectTo(r, '15001')))
          missing.push('ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
        const evidence = { backend: section, istioOutput: rulesText(output).slice(0, 20) };
        return missing.length === 0
          ? pass(`outbound capture is installed (${section})`, evidence)
          : fail(`outbound capture is incomplete: missing ${missing.join('; ')}`, evidence);
      }),
    ),
);

/**
 * Where inbound capture lives. istio-iptables' default sends it through nat REDIRECT; in TPROXY mode
 * (ISTIO_INBOUND_INTERCEPTION_MODE=TPROXY) the mangle table holds it: ISTIO_INBOUND sends established
 * connections to ISTIO_DIVERT and new ones to ISTIO_TPROXY, which TPROXYs them to 15006
 * (tools/istio-iptables/pkg/capture/testdata/tproxy.golden).
 */
interface InboundForm {
  table: 'nat' | 'mangle';
  /** The chain ISTIO_INBOUND sends captured TCP to. */
  capture: string;
  /** The rules the form needs besides PREROUTING's jump and the per-port ones, each missing one named. */
  missingFixedRules: (ruleset: IptablesRuleset) => string[];
}

const REDIRECT_FORM: InboundForm = {
  table: 'nat',
  capture: 'ISTIO_IN_REDIRECT',
  missingFixedRules: (ruleset) =>
    natRules(ruleset, 'ISTIO_IN_REDIRECT').some((r) => isTcpRedirectTo(r, '15006'))
      ? []
      : ['ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006'],
};

const TPROXY_FORM: InboundForm = {
  table: 'mangle',
  capture: 'ISTIO_TPROXY',
  missingFixedRules: (ruleset) => [
    ...(tableRules(ruleset, 'mangle', 'ISTIO_TPROXY').some((r) => isTcpTproxyTo(r, '15006'))
      ? []
      : ['mangle ISTIO_TPROXY -p tcp -j TPROXY --on-port 15006']),
    ...(tableRules(ruleset, 'mangle', 'ISTIO_INBOUND').some((r) => r.target === 'ISTIO_DIVERT')
      ? []
      : ['mangle ISTIO_INBOUND … -j ISTIO_DIVERT']),
    ...(tableRules(ruleset, 'mangle', 'ISTIO_DIVERT').some((r) => r.target === 'MARK') ? [] : ['mangle ISTIO_DIVERT -j MARK']),
  ],
};

/** NET-02: inbound capture matches ISTIO_INBOUND_PORTS, and ISTIO_LOCAL_EXCLUDE_PORTS return before it. */
export const net02 = vmControl(
  { id: 'NET-02', severity: 'HIGH', title: 'Inbound traffic captured as configured', remediation: IPTABLES_REMEDIATION },
  (_vm, snapshot) =>
    unlessOperatorCapture(snapshot, () => {
      if (!snapshot.clusterEnv.ok) return error(snapshot.clusterEnv.reason);
      const env = snapshot.clusterEnv.value;
      const inbound = (env.get('ISTIO_INBOUND_PORTS') ?? '').trim();
      const excluded = splitPorts(env.get('ISTIO_LOCAL_EXCLUDE_PORTS'));
      const form = isTproxyMode(env) ? TPROXY_FORM : REDIRECT_FORM;
      const where = (chain: string) => (form.table === 'nat' ? chain : `${form.table} ${chain}`);
      return withEvidence(captureView(snapshot), ({ effective: { ruleset, section } }) => {
        const chain = tableRules(ruleset, form.table, 'ISTIO_INBOUND');
        const evidence = {
          backend: section,
          mode: form === TPROXY_FORM ? 'TPROXY' : 'REDIRECT',
          inboundPorts: inbound,
          excludedPorts: excluded,
          istioInbound: rulesText(chain).slice(0, 30),
        };
        const jumps = tableRules(ruleset, form.table, 'PREROUTING').some((r) => isTcpJump(r, 'ISTIO_INBOUND'));
        if (inbound === '') {
          return jumps
            ? fail('ISTIO_INBOUND_PORTS is empty, yet inbound traffic is captured', evidence)
            : pass('inbound capture is off, as ISTIO_INBOUND_PORTS is empty', evidence);
        }
        const missing: string[] = [];
        if (!jumps) missing.push(`${where('PREROUTING')} -p tcp -j ISTIO_INBOUND`);
        missing.push(...form.missingFixedRules(ruleset));
        if (inbound === '*') {
          const catchAll = chain.findIndex(
            (r) => r.target === form.capture && !r.dport && (r.protocol === undefined || r.protocol.value === 'tcp'),
          );
          if (catchAll < 0) missing.push(`${where('ISTIO_INBOUND')} -p tcp -j ${form.capture}`);
          for (const port of excluded) {
            const at = chain.findIndex((r) => r.target === 'RETURN' && hasTcpDport(r, port));
            if (at < 0 || (catchAll >= 0 && at > catchAll))
              missing.push(
                `${where('ISTIO_INBOUND')} -p tcp --dport ${port} -j RETURN before the ${form === TPROXY_FORM ? 'TPROXY' : 'redirect'}`,
              );
          }
        } else {
          for (const port of splitPorts(inbound)) {
            if (!chain.some((r) => r.target === form.capture && hasTcpDport(r, port)))
              missing.push(`${where('ISTIO_INBOUND')} -p tcp --dport ${port} -j ${form.capture}`);
          }
        }
        const how = form === TPROXY_FORM ? ' (TPROXY, mangle table)' : '';
        return missing.length === 0
          ? pass(`inbound capture matches ISTIO_INBOUND_PORTS=${inbound}${how}`, evidence)
          : fail(`inbound capture does not match the configuration${how}: missing ${missing.join('; ')}`, evidence);
      });
    }),
);

/** NET-03: each ISTIO_ chain and jump exists once, in one backend (not split between legacy and nft). */
export const net03 = vmControl(
  {
    id: 'NET-03',
    severity: 'MEDIUM',
    title: 'Capture rules in one backend, once',
    remediation: `${IPTABLES_REMEDIATION} Flush the ISTIO_ chains from the backend that should not hold them (iptables-legacy or iptables-nft).`,
  },
  (_vm, snapshot) =>
    unlessOperatorCapture(snapshot, () =>
      withEvidence(captureView(snapshot), ({ effective: { ruleset, section }, backendsWithIstio }) => {
        const evidence = { backend: section, backendsWithIstioChains: backendsWithIstio };
        if (backendsWithIstio.length > 1)
          return fail(`ISTIO_ chains are in both ${backendsWithIstio.join(' and ')}: the capture is split between backends`, evidence);
        if (!hasIstioChains(ruleset)) return skip('no ISTIO_ chain is installed (see NET-01)', evidence);
        const duplicated = duplicates(
          ruleset.rules.filter((r) => r.target?.startsWith('ISTIO_') || (r.chain.startsWith('ISTIO_') && r.target === 'REDIRECT')),
        );
        if (duplicated.length > 0) return fail(`rules installed more than once: ${duplicated.join('; ')}`, { ...evidence, duplicated });
        return pass(`the capture rules are in ${section} only, each once`, evidence);
      }),
    ),
);

/** NET-04: DNS capture agrees with ISTIO_META_DNS_CAPTURE (port 53 → 15053 once per resolver, or not at all). */
export const net04 = vmControl(
  {
    id: 'NET-04',
    severity: 'MEDIUM',
    title: 'DNS capture as configured',
    remediation: `${IPTABLES_REMEDIATION} DNS capture follows ISTIO_META_DNS_CAPTURE in cluster.env.`,
  },
  (_vm, snapshot) =>
    unlessOperatorCapture(snapshot, () => {
      if (!snapshot.clusterEnv.ok) return error(snapshot.clusterEnv.reason);
      // pilot-agent reads it with Go's strconv.ParseBool.
      const enabled = ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(snapshot.clusterEnv.value.get('ISTIO_META_DNS_CAPTURE') ?? '');
      return withEvidence(captureView(snapshot), ({ effective: { ruleset, section } }) => {
        const redirects = ruleset.rules.filter((r) => r.table === 'nat' && isDnsRedirect(r));
        const evidence = { backend: section, dnsCapture: enabled, redirects: rulesText(redirects) };
        if (!enabled)
          return redirects.length === 0
            ? pass('DNS capture is off and no rule redirects DNS', evidence)
            : fail('DNS capture is off, yet port 53 is redirected to 15053', evidence);
        if (redirects.length === 0) return fail('ISTIO_META_DNS_CAPTURE is true, but no rule redirects DNS (udp 53) to 15053', evidence);
        const duplicated = duplicates(redirects);
        if (duplicated.length > 0)
          return fail(`DNS is redirected more than once for the same resolver: ${duplicated.join('; ')}`, evidence);
        return pass(
          `DNS to ${redirects.map((r) => r.destination?.value ?? 'any resolver').join(', ')} is redirected to 15053 once`,
          evidence,
        );
      });
    }),
);

/** NET-05: the owner exemption rules name this VM's istio-proxy uid (and gid), so the proxy's traffic is not looped. */
export const net05 = vmControl(
  {
    id: 'NET-05',
    severity: 'HIGH',
    title: 'Proxy traffic exempted by the right uid/gid',
    remediation: `${IPTABLES_REMEDIATION} The rules must use the uid/gid of the istio-proxy user (\`id istio-proxy\`).`,
  },
  (_vm, snapshot) =>
    unlessOperatorCapture(snapshot, () => {
      if (!snapshot.identity.ok) return error(snapshot.identity.reason);
      if (snapshot.sections.get('identity')?.missing.includes('id'))
        return error('id is not installed on the VM: the istio-proxy uid is unknown');
      const { proxyUid, proxyGid } = snapshot.identity.value;
      // The section also times out on ip (hostname -I's fallback) alone; only a missing uid or gid leaves the answer unknown.
      if (snapshot.sections.get('identity')?.rc === TIMED_OUT && (proxyUid === undefined || proxyGid === undefined)) {
        return error('a command of the identity section timed out on the VM: the istio-proxy uid is unknown');
      }
      return withEvidence(captureView(snapshot), ({ effective: { ruleset, section } }) => {
        const output = natRules(ruleset, 'ISTIO_OUTPUT');
        const uids = [...new Set(output.flatMap((r) => (r.uidOwner ? [r.uidOwner.value] : [])))];
        const gids = [...new Set(output.flatMap((r) => (r.gidOwner ? [r.gidOwner.value] : [])))];
        const evidence = { backend: section, proxyUid: proxyUid ?? null, proxyGid: proxyGid ?? null, uidOwners: uids, gidOwners: gids };
        if (proxyUid === undefined) return fail('there is no istio-proxy user on this VM', evidence);
        if (uids.length === 0) return fail('no rule exempts the proxy by owner: its own traffic would be captured in a loop', evidence);
        const wrong = [
          ...uids.filter((u) => u !== String(proxyUid)).map((u) => `uid ${u}`),
          ...gids.filter((g) => proxyGid !== undefined && g !== String(proxyGid)).map((g) => `gid ${g}`),
        ];
        if (wrong.length > 0)
          return fail(`the owner rules name ${wrong.join(', ')}, but istio-proxy is uid ${proxyUid} gid ${proxyGid ?? '?'}`, evidence);
        return pass(`the owner rules name istio-proxy (uid ${proxyUid}${gids.length ? `, gid ${proxyGid}` : ''})`, evidence);
      });
    }),
);

function splitPorts(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => /^\d{1,5}$/.test(p));
}

/** Rules that appear more than once (same table, chain and text once normalized). */
function duplicates(rules: IptablesRule[]): string[] {
  const seen = new Map<string, number>();
  for (const r of rules) {
    const key = `${r.table} ${r.text.replace(/\s+/g, ' ')}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
}
