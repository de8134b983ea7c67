import { analyzeBundle } from '../../lib/core/analyze.ts';
import { collect01 } from '../../lib/core/controls/collection.ts';
import { health01, health03 } from '../../lib/core/controls/health.ts';
import { reg01, reg02 } from '../../lib/core/controls/registration.ts';
import { xds01 } from '../../lib/core/controls/xds.ts';
import type { Report } from '../../lib/core/report.ts';
import { buildBundle, syncStatus, workloadEntry } from './bundle-builder.ts';

/**
 * A small report with every status and a hostile string from a VM, for renderer goldens. It uses a fixed
 * set of controls so that the goldens change when a renderer changes, not when the catalogue grows.
 */
export function sampleReport(): Report {
  return analyzeBundle(
    buildBundle({
      vms: [
        { instanceId: 'i-0000000000000001', hostname: 'web-1', ip: '10.0.0.1' },
        {
          instanceId: 'i-0000000000000002',
          hostname: 'web-2',
          ip: '10.0.0.2',
          activeState: 'inactive',
          subState: 'dead',
          httpCode: '000',
          curlExit: '7',
        },
        {
          instanceId: 'i-0000000000000003',
          hostname: 'web-3',
          ip: '10.0.0.3',
          httpCode: '503',
          logs: 'last not-ready Envoy proxy is NOT ready: <script>alert("x")</script> & \u001b[31mred\u001b[0m',
        },
        { instanceId: 'mi-00000000000000004', status: 'Failed', statusDetails: 'Undeliverable', ip: '10.0.0.4' },
      ],
      entries: [
        workloadEntry('payments', 'payments-vm', '10.0.0.1'),
        workloadEntry('payments', 'payments-vm', '10.0.0.3'),
        workloadEntry('payments', 'payments-vm', '10.0.0.9'),
      ],
      syncz: { 'istiod-a': [syncStatus('web-1.payments')], 'istiod-b': [syncStatus('web-3.payments')] },
    }),
    { controls: [collect01, health01, health03, xds01, reg01, reg02] },
  );
}
