import { describe, expect, it } from 'vitest';
import { analyzeBundle } from '../../../lib/core/analyze.ts';
import { buildMeshView } from '../../../lib/core/mesh-view.ts';
import { LOG_PATTERNS } from '../../../lib/core/parsers/logs-summary.ts';
import { renderTerminalSummary } from '../../../lib/core/render/terminal-summary.ts';
import { buildBundle, NOW, syncStatus, workloadEntry, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';
import { fixture } from '../../support/fixtures.ts';

// Missing, cut or ambiguous evidence must give ERROR, never PASS (nor a FAIL the evidence does not show).
const ID = 'i-0000000000000001';
const one = (vm: Omit<TestVm, 'instanceId'>, control: string) =>
  findingsOf(buildBundle({ vms: [{ instanceId: ID, ...vm }] }), control)[ID]!;

describe('ambiguous joins', () => {
  const twins = buildBundle({
    vms: [
      { instanceId: ID, hostname: 'twin', ip: '10.0.0.1' },
      { instanceId: 'i-0000000000000002', hostname: 'twin', ip: '10.0.0.1' },
    ],
    entries: [workloadEntry('payments', 'payments-vm', '10.0.0.1')],
    syncz: { 'istiod-a': [syncStatus('twin.payments')] },
  });
  it.each(['XDS-01', 'XDS-02', 'XDS-03', 'REG-01', 'REG-05', 'REG-06'])('%s is ERROR for both VMs', (control) => {
    const found = findingsOf(twins, control);
    expect([found[ID]!.status, found['i-0000000000000002']!.status]).toEqual(['ERROR', 'ERROR']);
  });
  it('REG-02 and XDS-05 name both claimants instead of picking one', () => {
    expect(findingsOf(twins, 'REG-02')['payments/payments-vm-10.0.0.1']).toEqual({
      status: 'ERROR',
      message: `claimed by ${ID}, i-0000000000000002: which machine it belongs to cannot be told`,
    });
    expect(findingsOf(twins, 'XDS-05')['twin.payments']!.status).toBe('ERROR');
  });
});

describe('unreadable evidence', () => {
  it('LOGS-01 is ERROR when no log could be read', () => {
    const logs = {
      name: 'logs',
      content: ['source journal error 0', 'source istio.log missing 0', ...LOG_PATTERNS.map((p) => `count ${p} 0`)].join('\n'),
    };
    expect(one({ sections: [logs] }, 'LOGS-01')).toEqual({
      status: 'ERROR',
      message: 'no log could be read (journal and /var/log/istio): nothing to look for patterns in',
    });
  });
  it('HEALTH-02 fails enabled-runtime (gone after a reboot) and is ERROR without a file state', () => {
    const unit = (extra: string) => ({ name: 'systemd', content: `ActiveState=active\nSubState=running\n${extra}` });
    expect(one({ sections: [unit('UnitFileState=enabled-runtime')] }, 'HEALTH-02').status).toBe('FAIL');
    expect(one({ sections: [unit('')] }, 'HEALTH-02').status).toBe('ERROR');
  });
  it('an absent cluster.env (rc 1) is not an empty one', () => {
    expect(one({ sections: [{ name: 'cluster-env', content: '', rc: 1 }] }, 'LOGS-02')).toEqual({
      status: 'ERROR',
      message: 'cluster.env could not be read (section cluster-env rc 1)',
    });
  });
  it('CERT-04 is ERROR without stat, and for a file stat could not describe', () => {
    expect(one({ sections: [{ name: 'certs', content: 'key_match=yes', missing: ['stat'] }] }, 'CERT-04').status).toBe('ERROR');
    expect(one({ sections: [{ name: 'certs', content: 'file name=key.pem\nkey_match=unknown' }] }, 'CERT-04')).toEqual({
      status: 'ERROR',
      message: 'stat could not describe key.pem',
    });
  });
  it('a command the script stopped with timeout (rc 124) is unknown, not absent', () => {
    const iptables = { name: 'iptables-save', content: fixture('iptables/vm-nft-dns-capture.txt') };
    expect(
      one({ sections: [{ name: 'identity', content: 'hostname=vm1\nproxy_uid=\nproxy_gid=', rc: 124 }, iptables] }, 'NET-05').status,
    ).toBe('ERROR');
    const server = { name: 'envoy-server-info', content: JSON.stringify({ node: { metadata: { ISTIO_VERSION: '1.24.6' } } }) };
    expect(
      one(
        { sections: [server, { name: 'versions', content: 'package_manager=\npackage_version=\npilot_agent_version=', rc: 124 }] },
        'XDS-04',
      ).status,
    ).toBe('ERROR');
    expect(one({ sections: [{ name: 'versions', content: '', rc: 124 }] }, 'COLLECT-03').message).toContain('timed out: versions');
  });

  it('NET-05 is ERROR when id is missing, rather than "no istio-proxy user"', () => {
    const vm = {
      sections: [
        { name: 'identity', content: 'hostname=vm1\nproxy_uid=\nproxy_gid=', missing: ['id'] },
        { name: 'iptables-save', content: fixture('iptables/vm-nft-dns-capture.txt') },
      ],
    };
    expect(one(vm, 'NET-05').status).toBe('ERROR');
  });
  it('NET controls are ERROR when the output was cut where a backend may have been lost', () => {
    const bundle = buildBundle({
      vms: [{ instanceId: ID, sections: [{ name: 'iptables-save', content: fixture('iptables/vm-nft-dns-capture.txt') }] }],
    });
    const out = bundle.invocations[ID]!.StandardOutputContent!;
    bundle.invocations[ID]!.StandardOutputContent = `${out.slice(0, out.indexOf('END iptables-save') + 40)}\n--output truncated--`;
    expect(findingsOf(bundle, 'NET-01')[ID]).toEqual({
      status: 'ERROR',
      message: 'the output was cut around the iptables sections: a backend may be missing',
    });
  });
  it("NET-04 reads ISTIO_META_DNS_CAPTURE as Go's ParseBool does", () => {
    const vm = {
      env: ["ISTIO_META_DNS_CAPTURE='True'"],
      sections: [{ name: 'iptables-save', content: fixture('iptables/vm-nft-dns-capture.txt') }],
    };
    expect(one(vm, 'NET-04').status).toBe('PASS');
  });
  it('COLLECT-03 fails when iptables-save is missing even though ip6tables-save is there', () => {
    const vm = {
      sections: [
        { name: 'iptables-save', content: '', rc: 127, missing: ['iptables-save'] },
        { name: 'ip6tables-save', content: '*nat\nCOMMIT' },
      ],
    };
    expect(one(vm, 'COLLECT-03').message).toContain('iptables (no iptables-save tool)');
  });
  it("REG-01 is ERROR when an entry of the VM's namespace could not be read", () => {
    const broken = {
      apiVersion: 'networking.istio.io/v1',
      metadata: { name: 'payments-vm-10.0.0.1', namespace: 'payments', annotations: { n: 5 } },
      spec: { address: '10.0.0.1' },
    };
    const found = findingsOf(buildBundle({ vms: [{ instanceId: ID, ip: '10.0.0.1' }], entries: [broken] }), 'REG-01')[ID]!;
    expect(found.status).toBe('ERROR');
  });
  it('REG-03 does not blame the controller when the istiod pods were not listed', () => {
    const bundle = buildBundle({
      vms: [{ instanceId: ID, ip: '10.0.0.1' }],
      entries: [workloadEntry('payments', 'payments-vm', '10.0.0.1')],
    });
    delete bundle.cluster!.istiodPods;
    expect(findingsOf(bundle, 'REG-03')['payments/payments-vm-10.0.0.1']!.status).toBe('ERROR');
  });
  it('CERT-03 passes a root with 30 days and 23 hours left ("more than 30 days")', async () => {
    const { mintMeshRootCa } = await import('../../../sim/certificates.ts');
    const root = await mintMeshRootCa({
      serialNumber: '01',
      notBefore: new Date(Date.parse(NOW) - (3650 - 30) * 86_400_000 - 3_600_000 + 23 * 3_600_000),
      validityDays: 3650,
    });
    expect(one({ sections: [{ name: 'root-cert-pem', content: root.pem }] }, 'CERT-03').status).toBe('PASS');
  });
});

describe('hostile names', () => {
  it('a pod named like an Object.prototype member does not break the analysis', () => {
    const cluster = { syncz: {}, rootCa: {}, istiodPods: { items: [{ metadata: { name: 'constructor', namespace: 'istio-system' } }] } };
    expect(buildMeshView(cluster).istiods).toEqual([
      {
        name: 'constructor',
        namespace: 'istio-system',
        phase: undefined,
        labels: {},
        answered: false,
        version: undefined,
        settings: {
          readable: false,
          rootCaConfigMap: { value: undefined, source: 'unset' },
          maxConnectionAge: { value: undefined, source: 'unset' },
        },
      },
    ]);
  });
  it('the terminal summary cannot be given extra rows by a name holding a newline', () => {
    const bundle = buildBundle({ vms: [{ instanceId: ID }], syncz: { 'istiod-a': [syncStatus('evil\nREG-02   FAIL   fake.payments')] } });
    const summary = renderTerminalSummary(analyzeBundle(bundle));
    expect(summary.split('\n').some((line) => line.startsWith('REG-02   FAIL'))).toBe(false);
  });
});
