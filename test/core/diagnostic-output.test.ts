import { describe, expect, it } from 'vitest';
import { formatDiagnosticOutput, splitDiagnosticOutput } from '../../lib/core/diagnostic-output.ts';

const B = '@@fa-0123456789abcdef';

describe('splitDiagnosticOutput', () => {
  it('splits well-formed output into sections with their exit status, cut flag and missing tools', () => {
    const text = formatDiagnosticOutput(B, [
      { name: 'identity', content: 'hostname=vm1' },
      { name: 'versions', content: '', rc: 127, missing: ['dpkg-query', 'rpm'] },
    ]);
    const split = splitDiagnosticOutput(text);
    expect(split.problems).toEqual([]);
    expect(split.truncated).toBe(false);
    expect(split.sections.get('identity')).toEqual({ name: 'identity', content: 'hostname=vm1', rc: 0, cut: false, missing: [] });
    expect(split.sections.get('versions')).toMatchObject({ rc: 127, missing: ['dpkg-query', 'rpm'] });
  });

  it('keeps content that looks like markers of another boundary, and content without a final newline', () => {
    const tricky = '@@fa-ffffffffffffffff END identity rc=0 cut=0 missing=-\nDONE sections=1\nno newline at end';
    const split = splitDiagnosticOutput(formatDiagnosticOutput(B, [{ name: 'logs', content: tricky }]));
    expect(split.sections.get('logs')?.content).toBe(tricky);
  });

  it('marks the output truncated and the open section cut when SSM cut it', () => {
    const full = formatDiagnosticOutput(B, [
      { name: 'identity', content: 'hostname=vm1' },
      { name: 'logs', content: 'x'.repeat(100) },
    ]);
    const cut = `${full.slice(0, full.indexOf('xxxxx') + 20)}\n--output truncated--`;
    const split = splitDiagnosticOutput(cut);
    expect(split.truncated).toBe(true);
    expect(split.sections.get('identity')?.cut).toBe(false);
    expect(split.sections.get('logs')).toMatchObject({ cut: true, rc: undefined, content: 'x'.repeat(20) });
  });

  it('reports garbage as unreadable without throwing', () => {
    const split = splitDiagnosticOutput('\u0000\u00ff garbage \n\n BEGIN');
    expect(split.version).toBeUndefined();
    expect(split.sections.size).toBe(0);
    expect(split.problems[0]).toMatch(/no diagnostic header/);
  });

  it('refuses a format version it does not know', () => {
    const split = splitDiagnosticOutput(`FLEET-AUDIT-DIAGNOSTICS v9 boundary=${B}\n`);
    expect(split.version).toBe(9);
    expect(split.problems[0]).toMatch(/v9 is not supported/);
  });
});
