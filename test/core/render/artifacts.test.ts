import { describe, expect, it } from 'vitest';
import { REPORT_FORMATS, renderContextOf, renderReportArtifacts, reportFileOf } from '../../../lib/core/render/artifacts.ts';
import { REPORT_FILE_NAMES } from '../../../lib/ports/report-files.ts';
import { hostileReport } from '../../support/hostile-report.ts';

const manifest = { bundleVersion: 1, runId: 'r', startedAt: '2026-11-26T06:00:00Z', source: 'aws' } as const;

describe('renderReportArtifacts', () => {
  it('renders every format by default, report.json first, under the names the API serves', () => {
    const names = renderReportArtifacts(hostileReport()).map((a) => a.name);
    expect(names).toEqual(['report.json', 'report.html', 'report.csv', 'report.junit.xml', 'report.ocsf.json']);
    expect(REPORT_FORMATS.map(reportFileOf).every((name) => (REPORT_FILE_NAMES as readonly string[]).includes(name))).toBe(true);
  });

  it('always renders report.json, whatever is asked', () => {
    expect(renderReportArtifacts(hostileReport(), { formats: ['ocsf', 'csv'] }).map((a) => a.name)).toEqual([
      'report.json',
      'report.csv',
      'report.ocsf.json',
    ]);
    expect(renderReportArtifacts(hostileReport(), { formats: [] }).map((a) => a.name)).toEqual(['report.json']);
  });
});

describe('renderContextOf', () => {
  it('takes the tool version and an AWS region from the manifest, and nothing of another shape', () => {
    expect(renderContextOf({ ...manifest, toolVersion: '0.1.0', targets: { region: 'eu-west-1', ssm: {} } })).toEqual({
      toolVersion: '0.1.0',
      region: 'eu-west-1',
    });
    expect(renderContextOf({ ...manifest, targets: { region: '"><script>' } })).toEqual({});
    expect(renderContextOf({ ...manifest, targets: { simulated: { vms: 3 } } })).toEqual({});
    expect(renderContextOf(manifest)).toEqual({});
  });
});
