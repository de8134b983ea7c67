import { describe, expect, it } from 'vitest';
import { formatDiagnosticOutput } from '../../lib/core/diagnostic-output.ts';
import { namespaceOfOutput } from '../../lib/core/namespaces.ts';

const B = '@@fa-0123456789abcdef';
const output = (env: string, meta: { rc?: number; cut?: boolean } = {}) =>
  formatDiagnosticOutput(B, [{ name: 'cluster-env', content: env, ...meta }]);

describe('namespaceOfOutput', () => {
  it('reads ISTIO_NAMESPACE, else POD_NAMESPACE', () => {
    expect(namespaceOfOutput(output("ISTIO_NAMESPACE='payments'\nPOD_NAMESPACE='other'"))).toBe('payments');
    expect(namespaceOfOutput(output("POD_NAMESPACE='other'"))).toBe('other');
  });
  it('gives nothing for a cut or unreadable cluster.env, a name Kubernetes would refuse, or garbage', () => {
    expect(namespaceOfOutput(output("ISTIO_NAMESPACE='payments'", { cut: true }))).toBeUndefined();
    expect(namespaceOfOutput(output('', { rc: 1 }))).toBeUndefined();
    expect(namespaceOfOutput(output("ISTIO_NAMESPACE='../../etc'"))).toBeUndefined();
    expect(namespaceOfOutput('\u0000garbage')).toBeUndefined();
  });
  it('reads the environment istio-start.sh builds: sidecar.env under cluster.env', () => {
    const both = (sidecar: string, cluster: string) =>
      formatDiagnosticOutput(B, [
        { name: 'cluster-env', content: cluster },
        { name: 'sidecar-env', content: sidecar },
      ]);
    expect(namespaceOfOutput(both("ISTIO_NAMESPACE='ledger'", "CANONICAL_SERVICE='ledger'"))).toBe('ledger');
    expect(namespaceOfOutput(both("ISTIO_NAMESPACE='ledger'", "ISTIO_NAMESPACE='payments'"))).toBe('payments');
  });
});
