import { describe, expect, it } from 'vitest';
import { parseSystemdShow, parseSystemdTimestamp } from '../../../lib/core/parsers/systemd-show.ts';

// As `systemctl show istio --timestamp=unix -p …` prints them (systemd 252, Debian 12).
const RUNNING =
  'LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nNRestarts=2\nActiveEnterTimestamp=@1764138000\nMainPID=4242\n';

describe('parseSystemdShow', () => {
  it('reads a running unit', () => {
    expect(parseSystemdShow(RUNNING)).toEqual({
      ok: true,
      value: {
        activeState: 'active',
        subState: 'running',
        unitFileState: 'enabled',
        nRestarts: 2,
        activeEnterMs: 1764138000_000,
        mainPid: 4242,
        notFound: false,
      },
    });
  });

  it('tells a unit that does not exist', () => {
    const parsed = parseSystemdShow(
      'LoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\nNRestarts=0\nActiveEnterTimestamp=\nMainPID=0',
    );
    expect(parsed).toMatchObject({ ok: true, value: { notFound: true, unitFileState: undefined, activeEnterMs: undefined } });
  });

  it('is unavailable when cut before ActiveState/SubState, and for garbage', () => {
    expect(parseSystemdShow('LoadState=loaded\nActiveSt')).toMatchObject({ ok: false });
    expect(parseSystemdShow('\u0000\u00ff\n==')).toMatchObject({ ok: false });
  });

  it('ignores numbers it cannot trust', () => {
    const parsed = parseSystemdShow('ActiveState=active\nSubState=running\nNRestarts=-1\nMainPID=12abc');
    expect(parsed).toMatchObject({ ok: true, value: { nRestarts: undefined, mainPid: undefined } });
  });
});

describe('parseSystemdTimestamp', () => {
  it('reads unix and UTC forms and refuses local zones', () => {
    expect(parseSystemdTimestamp('@1700000000')).toBe(1700000000_000);
    expect(parseSystemdTimestamp('Thu 2026-11-26 06:32:11 UTC')).toBe(Date.parse('2026-11-26T06:32:11Z'));
    expect(parseSystemdTimestamp('Thu 2026-11-26 06:32:11 CET')).toBeUndefined();
    expect(parseSystemdTimestamp('')).toBeUndefined();
  });
});
