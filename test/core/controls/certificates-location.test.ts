import { describe, expect, it } from 'vitest';
import { buildBundle, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';

// CERT-04 and CERT-06 judge the directory the agent writes to (OUTPUT_CERTS, PROV_CERT, /etc/certs).
const ID = 'i-0000000000000001';
const vm = (certs: string, env: string[] = [], extra: { name: string; content: string; rc?: number }[] = []): TestVm => ({
  instanceId: ID,
  env,
  sections: [{ name: 'certs', content: certs }, ...extra],
});
const finding = (v: TestVm, control: string) => findingsOf(buildBundle({ vms: [v] }), control)[ID]!;

describe('the certificates directory of CERT-04 and CERT-06', () => {
  it('names the directory OUTPUT_CERTS gives when it is missing', () => {
    const v = vm('location=/var/lib/istio/certs source=OUTPUT_CERTS\ndir=missing\n', ["OUTPUT_CERTS='/var/lib/istio/certs'"]);
    expect(finding(v, 'CERT-04')).toEqual({ status: 'FAIL', message: '/var/lib/istio/certs does not exist (OUTPUT_CERTS)' });
  });

  it('is ERROR, not a FAIL of /etc/certs, when the script refused the value', () => {
    const v = vm('location=/etc/certs source=default refused=OUTPUT_CERTS\ndir=missing\n', ["OUTPUT_CERTS='$(id)'"]);
    const message =
      "OUTPUT_CERTS is not an absolute path of plain characters, so the script read /etc/certs instead of the agent's certificates";
    expect(finding(v, 'CERT-04')).toEqual({ status: 'ERROR', message });
    expect(finding(v, 'CERT-06')).toEqual({ status: 'ERROR', message });
  });

  it('is ERROR when the environment names another directory than the one read (a script that read /etc/certs only)', () => {
    const v = vm('dir=missing\n', [], [{ name: 'sidecar-env', content: 'PROV_CERT=/opt/certs\n' }]);
    const message = "the VM's environment puts the certificates in /opt/certs, but the script read /etc/certs";
    expect(finding(v, 'CERT-04')).toEqual({ status: 'ERROR', message });
    expect(finding(v, 'CERT-06')).toEqual({ status: 'ERROR', message });
  });

  it("takes istio-start.sh's ./etc/certs as the default, and a trailing slash as the same directory", () => {
    expect(finding(vm('location=/etc/certs source=default\ndir=missing\n', ["OUTPUT_CERTS='./etc/certs'"]), 'CERT-04')).toEqual({
      status: 'FAIL',
      message: '/etc/certs does not exist',
    });
    expect(finding(vm('location=/srv/certs source=OUTPUT_CERTS\ndir=missing\n', ["OUTPUT_CERTS='/srv/certs/'"]), 'CERT-04').status).toBe(
      'FAIL',
    );
  });
});
