import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildSsmCommandDocument,
  renderSsmCommandDocument,
  SSM_DOCUMENT_MAX_BYTES,
  ssmDocumentSizeBytes,
  SsmDocumentError,
} from '../../lib/core/ssm-document.ts';

const script = readFileSync(new URL('../../lib/diagnostic-script/fleet-audit-diagnostics.sh', import.meta.url), 'utf8');
const committed = new URL('../../infra/ssm/fleet-audit-diagnostics.json', import.meta.url);

describe('buildSsmCommandDocument', () => {
  it('runs the diagnostic script, line for line, in one aws:runShellScript step of a 2.2 document', () => {
    const doc = buildSsmCommandDocument(script);
    expect(doc.schemaVersion).toBe('2.2');
    expect(doc.mainSteps).toHaveLength(1);
    const [step] = doc.mainSteps;
    expect(step.action).toBe('aws:runShellScript');
    expect(step.precondition).toEqual({ StringEquals: ['platformType', 'Linux'] });
    expect(step.inputs.runCommand.join('\n')).toBe(script);
    expect(step.inputs.timeoutSeconds).toBe('{{ executionTimeout }}');
    expect(doc.parameters.executionTimeout).toMatchObject({ type: 'String', default: '300' });
    expect(new RegExp(doc.parameters.executionTimeout.allowedPattern).test('300')).toBe(true);
    expect(new RegExp(doc.parameters.executionTimeout.allowedPattern).test('3601')).toBe(false);
    expect(new RegExp(doc.parameters.executionTimeout.allowedPattern).test('0')).toBe(false);
  });

  it("stays well under SSM's 64 KB document limit", () => {
    const size = ssmDocumentSizeBytes(renderSsmCommandDocument(buildSsmCommandDocument(script)));
    expect(size).toBeLessThan(SSM_DOCUMENT_MAX_BYTES);
    // A quarter kept free, so that the script can grow (and keep its comments) before the limit is near.
    expect(size).toBeLessThan(SSM_DOCUMENT_MAX_BYTES * 0.75);
  });

  it('is committed in infra/ssm exactly as it is generated now (node scripts/build-ssm-document.ts)', () => {
    expect(readFileSync(committed, 'utf8')).toBe(renderSsmCommandDocument(buildSsmCommandDocument(script)));
  });

  it('refuses a script over the size limit with a clear error', () => {
    const big = `#!/bin/sh\n${'echo padding-line-for-size\n'.repeat(3000)}`;
    expect(() => buildSsmCommandDocument(big)).toThrow(SsmDocumentError);
    expect(() => buildSsmCommandDocument(big)).toThrow(/over SSM's limit of 65536 bytes/);
  });

  it('refuses a script holding {{, which SSM would take for a document parameter', () => {
    expect(() => buildSsmCommandDocument('#!/bin/sh\necho ok\necho "{{ x }}"\n')).toThrow(/line 3/);
  });

  it("takes another default timeout, within SSM's bounds", () => {
    expect(buildSsmCommandDocument(script, { defaultTimeoutSeconds: 120 }).parameters.executionTimeout.default).toBe('120');
    expect(() => buildSsmCommandDocument(script, { defaultTimeoutSeconds: 0 })).toThrow(SsmDocumentError);
  });
});
