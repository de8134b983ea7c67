import type { Evidence } from '../result.ts';
import { parseKeyValueLines } from './key-value.ts';

export interface Identity {
  /** `hostname -s`: the first part of the proxy-status name `<hostname>.<ISTIO_NAMESPACE>`. */
  hostname: string;
  ips: string[];
  /** The VM's clock, epoch seconds (`date -u +%s`). */
  clockEpochSeconds: number | undefined;
  os: string | undefined;
  proxyUid: number | undefined;
  proxyGid: number | undefined;
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})$/;

/** Parses the identity section (`key=value` lines printed by the script). Never throws. */
export function parseIdentity(text: string): Evidence<Identity> {
  const kv = parseKeyValueLines(text);
  const hostname = kv.get('hostname')?.trim();
  if (!hostname || !HOSTNAME.test(hostname)) {
    return {
      ok: false,
      reason: hostname
        ? `hostname ${JSON.stringify(hostname.slice(0, 80))} is not a short host name`
        : 'the identity section has no hostname',
    };
  }
  const ips = (kv.get('ips') ?? '').split(/\s+/).filter((ip) => /^[0-9a-fA-F:.]{2,45}$/.test(ip));
  const int = (key: string): number | undefined => {
    const v = kv.get(key);
    return v !== undefined && /^\d{1,12}$/.test(v) ? Number(v) : undefined;
  };
  return {
    ok: true,
    value: {
      hostname,
      ips,
      clockEpochSeconds: int('clock'),
      os: kv.get('os') || undefined,
      proxyUid: int('proxy_uid'),
      proxyGid: int('proxy_gid'),
    },
  };
}
