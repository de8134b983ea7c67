import { captureView } from '../traffic-capture.ts';
import type { VmSnapshot } from '../vm-snapshot.ts';
import { error, skip, type Outcome } from './control.ts';

/** How many of the rules in force a SKIP shows, so the operator's capture is still seen in the report. */
const SHOWN_RULES = 40;

/**
 * The capture controls for a VM whose operator installs the rules: istio-start.sh runs istio-iptables
 * only when ISTIO_CUSTOM_IP_TABLES is not exactly `true` (tools/packaging/common/istio-start.sh), so
 * with it Istio's rules are not the ones to expect and the controls are SKIP, the rules in force shown.
 * When the environment is unknown, a verdict other than PASS could be the operator's layout read as a
 * fault: it is ERROR instead.
 */
export function unlessOperatorCapture(snapshot: VmSnapshot, evaluate: () => Outcome): Outcome {
  const env = snapshot.clusterEnv;
  if (env.ok && env.value.get('ISTIO_CUSTOM_IP_TABLES') === 'true') {
    const view = captureView(snapshot);
    const evidence = view.ok
      ? {
          backend: view.value.effective.section,
          rules: view.value.effective.ruleset.rules.map((r) => `${r.table} ${r.text}`).slice(0, SHOWN_RULES),
        }
      : { rules: null, whyNoRules: view.reason };
    return skip('ISTIO_CUSTOM_IP_TABLES=true: the operator installs the capture rules, not Istio', evidence);
  }
  const outcome = evaluate();
  if (!env.ok && outcome.status === 'FAIL') {
    return error(
      `${outcome.message}; but whether the operator installs the rules (ISTIO_CUSTOM_IP_TABLES) is unknown: ${env.reason}`,
      outcome.evidence,
    );
  }
  return outcome;
}
