import { z } from 'zod';

/**
 * What an istiod pod is run with, read from its pod spec (the `discovery` container's environment and
 * arguments) as the API returned it: the settings the audit must follow rather than assume.
 */

/** The ConfigMap istiod publishes the root of trust in, unless PILOT_CA_CERT_CONFIGMAP renames it. */
export const DEFAULT_ROOT_CA_CONFIGMAP = 'istio-ca-root-cert';

/**
 * The variable istiod reads the root-of-trust ConfigMap's name from: `CACertConfigMapName =
 * env.Register("PILOT_CA_CERT_CONFIGMAP", "istio-ca-root-cert", …)` in istio/istio
 * `pilot/pkg/features/experimental.go`; the Helm chart sets it from `global.trustBundleName`.
 */
export const ROOT_CA_CONFIGMAP_ENV = 'PILOT_CA_CERT_CONFIGMAP';

/**
 * The flag istiod reads its gRPC max connection age from (istio/istio `pkg/keepalive/options.go`,
 * `AttachCobraFlags`); the Helm chart always passes it, `30m` by default (`keepaliveMaxServerConnectionAge`
 * in `manifests/charts/istio-control/istio-discovery/values.yaml`). Istio registers no environment variable
 * for it, so none is read. Without the flag istiod's own default is no limit (`DefaultOption`: Infinity).
 */
export const MAX_CONNECTION_AGE_FLAG = '--keepaliveMaxServerConnectionAge';

/** The value istiod's Helm chart gives the flag, used when istiod's own settings could not be read. */
export const CHART_MAX_CONNECTION_AGE = '30m';

const EnvVarSchema = z.looseObject({ name: z.string(), value: z.string().optional(), valueFrom: z.unknown().optional() });
const ContainerSchema = z.looseObject({
  name: z.string().optional(),
  command: z.array(z.string()).optional().catch(undefined),
  args: z.array(z.string()).optional().catch(undefined),
  env: z.array(z.unknown()).optional().catch(undefined),
});
const PodSpecSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().optional() }).optional(),
  spec: z.looseObject({ containers: z.array(z.unknown()).optional().catch(undefined) }).optional(),
});

/** A setting as the pod sets it: its raw text and where it came from. */
export interface IstiodSetting {
  /** The text the pod gives; undefined when the pod does not set it or sets it from elsewhere (valueFrom). */
  value: string | undefined;
  /** `env` / `flag`: the pod sets it; `value-from`: from a ConfigMap or Secret the audit does not read; `unset`: istiod's default applies. */
  source: 'env' | 'flag' | 'value-from' | 'unset';
}

export interface IstiodSettings {
  /** Whether the pod's spec and its discovery container could be read at all (an old or hand-made bundle may hold no spec). */
  readable: boolean;
  rootCaConfigMap: IstiodSetting;
  maxConnectionAge: IstiodSetting;
}

/** Reads the settings of one istiod pod object. Never throws: what cannot be read is `readable: false`. */
export function readIstiodSettings(pod: unknown): IstiodSettings {
  const unreadable: IstiodSettings = {
    readable: false,
    rootCaConfigMap: { value: undefined, source: 'unset' },
    maxConnectionAge: { value: undefined, source: 'unset' },
  };
  const parsed = PodSpecSchema.safeParse(pod);
  if (!parsed.success) return unreadable;
  const containers = (parsed.data.spec?.containers ?? []).flatMap((c) => {
    const container = ContainerSchema.safeParse(c);
    return container.success ? [container.data] : [];
  });
  // istiod's container is `discovery` in every chart; a lone container is taken as istiod's.
  const discovery = containers.find((c) => c.name === 'discovery') ?? (containers.length === 1 ? containers[0] : undefined);
  if (!discovery) return unreadable;
  return {
    readable: true,
    rootCaConfigMap: envSetting(discovery.env ?? [], ROOT_CA_CONFIGMAP_ENV),
    maxConnectionAge: flagSetting([...(discovery.command ?? []), ...(discovery.args ?? [])], MAX_CONNECTION_AGE_FLAG),
  };
}

/** The last definition of an environment variable wins, as in the container runtime. */
function envSetting(env: unknown[], name: string): IstiodSetting {
  let setting: IstiodSetting = { value: undefined, source: 'unset' };
  for (const item of env) {
    const parsed = EnvVarSchema.safeParse(item);
    if (!parsed.success || parsed.data.name !== name) continue;
    setting =
      parsed.data.value !== undefined
        ? { value: parsed.data.value, source: 'env' }
        : parsed.data.valueFrom !== undefined
          ? { value: undefined, source: 'value-from' }
          : { value: '', source: 'env' };
  }
  return setting;
}

/** A flag as pflag reads it (`--name value` or `--name=value`); the last occurrence wins. */
function flagSetting(argv: string[], flag: string): IstiodSetting {
  let setting: IstiodSetting = { value: undefined, source: 'unset' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === flag && i + 1 < argv.length) setting = { value: argv[++i], source: 'flag' };
    else if (arg.startsWith(`${flag}=`)) setting = { value: arg.slice(flag.length + 1), source: 'flag' };
  }
  return setting;
}

/**
 * The root-of-trust ConfigMap names to read, in order, given istiod pods as the API returned them: the
 * names the pods set with PILOT_CA_CERT_CONFIGMAP, and the default when a pod leaves it unset, sets it
 * empty (istiod then uses the default), or cannot be read. Revisions may differ; each name is tried.
 */
export function rootCaConfigMapNames(pods: readonly unknown[] | undefined): string[] {
  const names = new Set<string>();
  for (const pod of pods ?? []) {
    const setting = readIstiodSettings(pod).rootCaConfigMap;
    if (setting.source === 'env' && setting.value) names.add(setting.value);
    else names.add(DEFAULT_ROOT_CA_CONFIGMAP);
  }
  // The renamed ones first: a mesh that renames it may keep a stale ConfigMap under the old name.
  const renamed = [...names].filter((n) => n !== DEFAULT_ROOT_CA_CONFIGMAP).sort();
  return names.has(DEFAULT_ROOT_CA_CONFIGMAP) || renamed.length === 0 ? [...renamed, DEFAULT_ROOT_CA_CONFIGMAP] : renamed;
}

const DURATION_UNITS_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION = /^(?<sign>[-+]?)(?<body>(?:\d*(?:\.\d*)?(?:ns|us|µs|μs|ms|s|m|h))+|0)$/;
const DURATION_PART = /(?<number>\d*(?:\.\d*)?)(?<unit>ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Parses a Go duration (`time.ParseDuration`: a signed sequence of decimal numbers, each with a unit of
 * ns, us/µs, ms, s, m or h, e.g. `30m`, `1h30m`, `1.5h`; a bare `0`) into milliseconds. Returns undefined
 * for anything else. Never throws.
 */
export function parseGoDuration(text: string): number | undefined {
  if (typeof text !== 'string' || text.length > 100) return undefined;
  const match = DURATION.exec(text);
  if (!match?.groups) return undefined;
  const { sign, body } = match.groups;
  if (body === '0') return 0;
  let ns = 0;
  for (const part of body!.matchAll(DURATION_PART)) {
    const number = part.groups!.number!;
    // "." alone, or a unit with no number, is not a duration (Go rejects both).
    if (number === '' || number === '.') return undefined;
    ns += Number(number) * DURATION_UNITS_NS[part.groups!.unit!]!;
  }
  if (!Number.isFinite(ns)) return undefined;
  return (sign === '-' ? -ns : ns) / 1e6;
}
