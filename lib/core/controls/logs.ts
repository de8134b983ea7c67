import { LOG_PATTERNS, type LogPattern } from '../parsers/logs-summary.ts';
import { error, excerpt, fail, pass, vmControl, withEvidence } from './control.ts';

const DESCRIPTIONS: Record<LogPattern, string> = {
  'warm-cert': 'failed to warm certificate',
  'not-ready': 'Envoy proxy is NOT ready',
  'no-workload-group': 'cannot find WorkloadGroup',
  token: 'token expired / failed to fetch token',
  x509: 'x509 errors',
  'istiod-dial': 'connection refused / dial tcp to istiod',
  'dns-not-ready': 'DNS lookup table is not ready',
  'stream-closed': 'gRPC config stream closed (repeating)',
};

/** LOGS-01: the recent istio logs hold none of the known-bad patterns; counts each and quotes the latest line. */
export const logs01 = vmControl(
  {
    id: 'LOGS-01',
    severity: 'MEDIUM',
    title: 'No known-bad lines in the istio logs',
    remediation:
      'Read `journalctl -u istio` and `/var/log/istio/istio.log` around the quoted line; each pattern is a known failure of a VM sidecar.',
  },
  (_vm, snapshot, ctx) =>
    withEvidence(snapshot.logs, (logs) => {
      const unreadable = logs.sources.filter((s) => s.state === 'error').map((s) => s.name);
      const read = logs.sources.filter((s) => s.state === 'ok').map((s) => s.name);
      const hits = LOG_PATTERNS.filter((p) => {
        const n = logs.counts.get(p) ?? 0;
        return p === 'stream-closed' ? n >= ctx.thresholds.streamClosedRepeats : n > 0;
      });
      const counts = Object.fromEntries(LOG_PATTERNS.map((p) => [p, logs.counts.get(p) ?? 0]));
      const evidence: Record<string, unknown> = { counts, sources: logs.sources };
      if (hits.length === 0) {
        if (read.length === 0) return error('no log could be read (journal and /var/log/istio): nothing to look for patterns in', evidence);
        if (unreadable.length > 0)
          return error(`no known-bad pattern in ${read.join(', ')}, but ${unreadable.join(', ')} could not be read`, evidence);
        return pass(`no known-bad pattern in ${read.join(', ')}`, evidence);
      }
      evidence.latest = Object.fromEntries(hits.map((p) => [p, excerpt(logs.latest.get(p) ?? '', 512)]));
      const worst = hits[0]!;
      const latest = logs.latest.get(worst);
      return fail(
        `${hits.map((p) => `${DESCRIPTIONS[p]} ×${logs.counts.get(p)}`).join(', ')}${latest ? `; latest: ${excerpt(latest, 200)}` : ''}`,
        evidence,
      );
    }),
);

// Istio pilot-agent flags that turn on debug logging (pilot-agent proxy --help, Istio 1.24).
const DEBUG_FLAGS = [
  /--log_output_level[= ](?:\S*:)?(?:debug|trace)\b/,
  /--proxyLogLevel[= ](?:debug|trace)\b/,
  /--proxyComponentLogLevel[= ]\S*:(?:debug|trace)\b/,
];

/** LOGS-02: ISTIO_AGENT_FLAGS in cluster.env sets no debug or trace level. */
export const logs02 = vmControl(
  {
    id: 'LOGS-02',
    severity: 'LOW',
    title: 'No debug logging left on',
    remediation: 'Remove the debug levels from ISTIO_AGENT_FLAGS in /var/lib/istio/envoy/cluster.env and `systemctl restart istio`.',
  },
  (_vm, snapshot) =>
    withEvidence(snapshot.clusterEnv, (env) => {
      const flags = env.get('ISTIO_AGENT_FLAGS') ?? '';
      const found = DEBUG_FLAGS.map((re) => re.exec(flags)?.[0]).filter((m): m is string => m !== undefined);
      if (found.length === 0)
        return pass(flags ? 'ISTIO_AGENT_FLAGS sets no debug level' : 'ISTIO_AGENT_FLAGS is not set', { agentFlags: excerpt(flags) });
      return fail(`ISTIO_AGENT_FLAGS turns on debug logging: ${found.join(' ')}`, { agentFlags: excerpt(flags) });
    }),
);
