import { parseKeyValueLines } from './key-value.ts';
import type { Evidence } from '../result.ts';

/** What `systemctl show istio -p ActiveState,SubState,UnitFileState,NRestarts,ActiveEnterTimestamp,MainPID` tells. */
export interface UnitState {
  activeState: string;
  subState: string;
  unitFileState: string | undefined;
  nRestarts: number | undefined;
  /** Epoch milliseconds of the current start, when systemd printed one it could read. */
  activeEnterMs: number | undefined;
  mainPid: number | undefined;
  /** `LoadState=not-found`: there is no istio unit on this VM. */
  notFound: boolean;
}

export type ParseResult<T> = Evidence<T>;

/**
 * Parses `systemctl show` output (systemd's `Key=Value` property lines, systemctl(1) "show").
 * Timestamps are systemd's `Day YYYY-MM-DD HH:MM:SS TZ` form; the script passes
 * `--timestamp=unix` where systemd supports it, giving `@<seconds>`. Never throws.
 */
export function parseSystemdShow(text: string): ParseResult<UnitState> {
  const props = parseKeyValueLines(text);
  const activeState = props.get('ActiveState');
  const subState = props.get('SubState');
  if (activeState === undefined || subState === undefined) {
    return { ok: false, reason: 'systemctl show printed no ActiveState/SubState' };
  }
  return {
    ok: true,
    value: {
      activeState,
      subState,
      unitFileState: props.get('UnitFileState') || undefined,
      nRestarts: toInt(props.get('NRestarts')),
      activeEnterMs: parseSystemdTimestamp(props.get('ActiveEnterTimestamp')),
      mainPid: toInt(props.get('MainPID')),
      notFound: props.get('LoadState') === 'not-found',
    },
  };
}

function toInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** `@1700000000` (--timestamp=unix) or `Thu 2026-11-26 06:32:11 UTC`; other zones than UTC are not trusted. */
export function parseSystemdTimestamp(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const unix = /^@(?<seconds>\d{1,12})$/.exec(value);
  if (unix?.groups) return Number(unix.groups.seconds) * 1000;
  const utc = /^(?:[A-Z][a-z]{2} )?(?<date>\d{4}-\d{2}-\d{2}) (?<time>\d{2}:\d{2}:\d{2})(?:\.\d+)? UTC$/.exec(value);
  if (utc?.groups) {
    const ms = Date.parse(`${utc.groups.date}T${utc.groups.time}Z`);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
