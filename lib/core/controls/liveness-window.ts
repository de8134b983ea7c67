import { CHART_MAX_CONNECTION_AGE, MAX_CONNECTION_AGE_FLAG, parseGoDuration } from '../istiod-settings.ts';
import type { MeshView } from '../mesh-view.ts';

/** How long an auto-registered entry's `istio.io/connectedAt` may age before istiod itself counts it as leaked. */
export interface LivenessWindow {
  /** Milliseconds after `connectedAt`; undefined when istiod sets no limit. */
  ms: number | undefined;
  /** The `--keepaliveMaxServerConnectionAge` the controller runs with, as its pod gives it; null when unset or unknown. */
  maxConnectionAge: string | null;
  /** Where the window comes from, in words, for the finding. */
  source: string;
}

/**
 * The liveness window of the entries one istiod controls. istiod cleans up an auto-registered entry whose
 * `connectedAt` is older than 1.5 × its max connection age, and treats an age of zero or less, or none
 * (the flag left out: `keepalive.DefaultOption` is Infinity), as no limit (istio/istio
 * `pilot/pkg/autoregistration/controller.go`, `NewController` and `shouldCleanupEntry`). A connection is
 * closed, and `connectedAt` renewed on reconnection, at most that age apart. When the controller's pod
 * spec is not in the evidence, the window is `fallbackMinutes` (1.5 × the Helm chart's 30m by default).
 */
export function livenessWindow(controller: string | undefined, mesh: MeshView, fallbackMinutes: number): LivenessWindow {
  const fallback = (why: string): LivenessWindow => ({
    ms: fallbackMinutes * 60_000,
    maxConnectionAge: null,
    source: `${fallbackMinutes} min, the default (1.5 × the Helm chart's ${CHART_MAX_CONNECTION_AGE}): ${why}`,
  });
  const istiod = controller === undefined ? undefined : mesh.istiods.find((i) => i.name === controller);
  if (!istiod?.settings?.readable) return fallback(`the pod spec of ${controller ?? 'its controller'} is not in the evidence`);
  const setting = istiod.settings.maxConnectionAge;
  if (setting.source !== 'flag' || setting.value === undefined) {
    return {
      ms: undefined,
      maxConnectionAge: null,
      source: `none: ${istiod.name} runs without ${MAX_CONNECTION_AGE_FLAG}, so istiod sets no age limit`,
    };
  }
  const age = parseGoDuration(setting.value);
  if (age === undefined)
    return {
      ...fallback(`${istiod.name}'s ${MAX_CONNECTION_AGE_FLAG} ${JSON.stringify(setting.value.slice(0, 40))} is not a duration`),
      maxConnectionAge: setting.value,
    };
  if (age <= 0)
    return {
      ms: undefined,
      maxConnectionAge: setting.value,
      source: `none: ${istiod.name} runs with ${MAX_CONNECTION_AGE_FLAG} ${setting.value}, which istiod reads as no limit`,
    };
  return {
    ms: age * 1.5,
    maxConnectionAge: setting.value,
    source: `1.5 × ${setting.value}, the ${MAX_CONNECTION_AGE_FLAG} of ${istiod.name}`,
  };
}

/** A window as the finding says it: `45 min`, `1 h 30 min`, `90 s`. */
export function describeWindow(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes >= 120 && minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}
