import { splitDiagnosticOutput, type Section, type SectionMeta } from './diagnostic-output.ts';
import { parseClusterEnv } from './parsers/key-value.ts';
import { parseEnvoyServerInfo, type EnvoyServerInfo } from './parsers/envoy-server-info.ts';
import { parseIdentity, type Identity } from './parsers/identity.ts';
import { parseReadiness, type Readiness } from './parsers/readiness.ts';
import { parseSystemdShow, type UnitState } from './parsers/systemd-show.ts';
import type { Evidence } from './result.ts';

/** Everything read from one VM's diagnostic output, each part available or with the reason it is not. */
export interface VmSnapshot {
  formatVersion: number | undefined;
  /** Whether the output as a whole was readable as diagnostic output. */
  readable: boolean;
  truncated: boolean;
  problems: string[];
  sections: Map<string, SectionMeta>;
  identity: Evidence<Identity>;
  unit: Evidence<UnitState>;
  readiness: Evidence<Readiness>;
  clusterEnv: Evidence<Map<string, string>>;
  serverInfo: Evidence<EnvoyServerInfo>;
  /** The logs section as the VM reduced it (pattern counts and the latest matching lines). */
  logText: string | undefined;
}

/** Parses one VM's complete diagnostic output. Never throws: what cannot be read is an unavailable part. */
export function parseVmSnapshot(output: string): VmSnapshot {
  const split = splitDiagnosticOutput(output);
  const readable = split.version !== undefined && split.sections.size > 0;
  const whyNot = split.problems[0] ?? 'the output holds no sections';
  const part = <T>(name: string, parse: (content: string) => Evidence<T>): Evidence<T> => {
    if (!readable) return { ok: false, reason: whyNot };
    return parseSection(split.sections.get(name), name, parse);
  };
  const sections = new Map<string, SectionMeta>();
  for (const [name, s] of split.sections) sections.set(name, { rc: s.rc, cut: s.cut, missing: s.missing });
  return {
    formatVersion: split.version,
    readable,
    truncated: split.truncated,
    problems: split.problems,
    sections,
    identity: part('identity', parseIdentity),
    unit: part('systemd', parseSystemdShow),
    readiness: part('readiness', parseReadiness),
    clusterEnv: part('cluster-env', (text) => ({ ok: true, value: parseClusterEnv(text) })),
    serverInfo: part('envoy-server-info', parseEnvoyServerInfo),
    logText: readable ? split.sections.get('logs')?.content : undefined,
  };
}

function parseSection<T>(section: Section | undefined, name: string, parse: (content: string) => Evidence<T>): Evidence<T> {
  if (!section) return { ok: false, reason: `section ${name} is missing from the output` };
  if (section.cut) return { ok: false, reason: `section ${name} was cut` };
  if (section.missing.length > 0 && section.content.trim() === '') {
    return { ok: false, reason: `section ${name} is empty: ${section.missing.join(', ')} not installed` };
  }
  const parsed = parse(section.content);
  return parsed.ok ? parsed : { ok: false, reason: `section ${name}: ${parsed.reason}` };
}
