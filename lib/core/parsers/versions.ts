import type { Evidence } from '../result.ts';
import { parseKeyValueLines } from './key-value.ts';

export interface InstalledVersions {
  packageManager: 'dpkg' | 'rpm' | undefined;
  /** The istio-sidecar package version, e.g. `1.24.6` (dpkg) or `1.24.6-1` (rpm). */
  packageVersion: string | undefined;
  /** `pilot-agent version -s`, e.g. `1.24.6`. */
  pilotAgentVersion: string | undefined;
}

const VERSION = /^[0-9][0-9A-Za-z.+~_-]{0,63}$/;

/** Parses the `versions` section (`package_manager`, `package_version`, `pilot_agent_version`). Never throws. */
export function parseVersions(text: string): Evidence<InstalledVersions> {
  const kv = parseKeyValueLines(text);
  if (!kv.has('package_version') && !kv.has('pilot_agent_version')) return { ok: false, reason: 'the versions section names no version' };
  const version = (key: string): string | undefined => {
    const v = kv.get(key)?.trim();
    return v && VERSION.test(v) ? v : undefined;
  };
  const manager = kv.get('package_manager');
  return {
    ok: true,
    value: {
      packageManager: manager === 'dpkg' || manager === 'rpm' ? manager : undefined,
      packageVersion: version('package_version'),
      pilotAgentVersion: version('pilot_agent_version'),
    },
  };
}

/** Parses `1.24.6`, `1.24.6-1`, `1.24-dev`… into [major, minor, patch]; undefined when it is no version. */
export function parseIstioVersion(version: string | undefined): [number, number, number] | undefined {
  const m = /^(?<major>\d{1,4})\.(?<minor>\d{1,4})(?:\.(?<patch>\d{1,6}))?/.exec(version ?? '');
  if (!m?.groups) return undefined;
  return [Number(m.groups.major), Number(m.groups.minor), Number(m.groups.patch ?? 0)];
}
