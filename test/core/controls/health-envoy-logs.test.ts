import { describe, expect, it } from 'vitest';
import { LOG_PATTERNS } from '../../../lib/core/parsers/logs-summary.ts';
import { buildBundle, NOW, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';

const nowS = Date.parse(NOW) / 1000;
const one = (vm: Omit<TestVm, 'instanceId'>, control: string) =>
  findingsOf(buildBundle({ vms: [{ instanceId: 'i-0000000000000001', ...vm }] }), control)['i-0000000000000001']!;
const unit = (props: string) => ({ name: 'systemd', content: `LoadState=loaded\nActiveState=active\nSubState=running\n${props}` });
const stats = (values: Record<string, number>) => ({
  name: 'envoy-stats',
  content: Object.entries(values)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n'),
});
const HEALTHY_STATS = {
  'server.state': 0,
  'control_plane.connected_state': 1,
  'cluster_manager.cds.update_rejected': 0,
  'listener_manager.lds.update_rejected': 0,
};
const logs = (counts: Record<string, number>, last: string[] = []) => ({
  name: 'logs',
  content: ['source journal ok 1000', ...LOG_PATTERNS.map((p) => `count ${p} ${counts[p] ?? 0}`), ...last].join('\n'),
});

describe('HEALTH-02', () => {
  it('passes for an enabled unit and fails for a disabled one', () => {
    expect(one({ sections: [unit('UnitFileState=enabled')] }, 'HEALTH-02').status).toBe('PASS');
    expect(one({ sections: [unit('UnitFileState=disabled')] }, 'HEALTH-02')).toEqual({
      status: 'FAIL',
      message: 'the unit is disabled: it will not start after a reboot',
    });
  });
});

describe('HEALTH-04', () => {
  it('passes without restarts, and with few restarts and a start older than 10 min', () => {
    expect(one({ sections: [unit('NRestarts=0')] }, 'HEALTH-04').status).toBe('PASS');
    expect(one({ sections: [unit(`NRestarts=2\nActiveEnterTimestamp=@${nowS - 3600}`)] }, 'HEALTH-04')).toEqual({
      status: 'PASS',
      message: '2 automatic restart(s), stable for 60 min',
    });
  });
  it('fails when restarting now or restarted too often', () => {
    expect(one({ sections: [unit(`NRestarts=5\nActiveEnterTimestamp=@${nowS - 60}`)] }, 'HEALTH-04')).toEqual({
      status: 'FAIL',
      message: 'the unit restarted 5 times; the current start is 1 min old',
    });
    expect(one({ sections: [unit(`NRestarts=1\nActiveEnterTimestamp=@${nowS - 120}`)] }, 'HEALTH-04').status).toBe('FAIL');
  });
  it('is ERROR on a systemd that does not count restarts', () => {
    expect(one({ sections: [unit('')] }, 'HEALTH-04').status).toBe('ERROR');
  });
});

describe('HEALTH-05', () => {
  it('passes when LIVE, connected and nothing rejected', () => {
    expect(one({ sections: [stats(HEALTHY_STATS)] }, 'HEALTH-05').status).toBe('PASS');
  });
  it('fails when istiod is gone even though readiness stays 200', () => {
    expect(
      one(
        { sections: [stats({ ...HEALTHY_STATS, 'control_plane.connected_state': 0, 'cluster_manager.cds.update_rejected': 2 })] },
        'HEALTH-05',
      ),
    ).toEqual({
      status: 'FAIL',
      message: 'Envoy holds no control-plane connection; 2 CDS update(s) rejected',
    });
  });
  it('fails when Envoy is not running, and is ERROR when a stat is missing', () => {
    expect(one({ sections: [{ name: 'envoy-stats', content: '', rc: 7 }] }, 'HEALTH-05')).toEqual({
      status: 'FAIL',
      message: 'Envoy is not running: its admin port refused the connection',
    });
    expect(one({ sections: [stats({ 'server.state': 0 })] }, 'HEALTH-05').status).toBe('ERROR');
  });
});

describe('LOGS-01', () => {
  it('passes on clean logs and on normal stream reconnections', () => {
    expect(one({ sections: [logs({ 'stream-closed': 3 })] }, 'LOGS-01').status).toBe('PASS');
  });
  it('fails with the counts and quotes the latest line', () => {
    const found = one(
      {
        sections: [
          logs({ x509: 2, 'stream-closed': 40 }, [
            'last x509 error x509: certificate has expired',
            'last stream-closed info gRPC config stream closed',
          ]),
        ],
      },
      'LOGS-01',
    );
    expect(found).toEqual({
      status: 'FAIL',
      message: 'x509 errors ×2, gRPC config stream closed (repeating) ×40; latest: error x509: certificate has expired',
    });
  });
  it('is ERROR when the logs section was cut', () => {
    expect(one({ sections: [{ name: 'logs', content: 'source journal ok 10\ncount warm', cut: true }] }, 'LOGS-01')).toEqual({
      status: 'ERROR',
      message: 'section logs was cut',
    });
  });
});

describe('LOGS-02', () => {
  it('passes without debug flags and fails with them', () => {
    expect(one({ env: ["ISTIO_AGENT_FLAGS='--proxyLogLevel=warning'"] }, 'LOGS-02').status).toBe('PASS');
    expect(one({}, 'LOGS-02')).toEqual({ status: 'PASS', message: 'ISTIO_AGENT_FLAGS is not set' });
    expect(one({ env: ["ISTIO_AGENT_FLAGS='--log_output_level=default:info,xdsproxy:debug --proxyLogLevel=trace'"] }, 'LOGS-02')).toEqual({
      status: 'FAIL',
      message: 'ISTIO_AGENT_FLAGS turns on debug logging: --log_output_level=default:info,xdsproxy:debug --proxyLogLevel=trace',
    });
  });
});
