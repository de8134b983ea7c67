/** The test PKI the fake VM's certificates and istio-token come from, made with the openssl CLI. */
import { execFile } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath } from './host-tools.ts';
import { VM } from './vm-defaults.ts';

const execFileAsync = promisify(execFile);

export interface Pki {
  rootPem: string;
  leafPem: string;
  keyPem: string;
  otherKeyPem: string;
  /** header.payload.signature, signed RS256 with a real key. */
  jwt: string;
  jwtClaims: Record<string, unknown>;
}

let pkiPromise: Promise<Pki> | undefined;

/** A CA, a leaf with its key and a second unrelated key, made once per test file with the openssl CLI. */
export function testPki(): Promise<Pki> {
  pkiPromise ??= makePki();
  return pkiPromise;
}

async function makePki(): Promise<Pki> {
  const openssl = findOnPath('openssl');
  if (!openssl) throw new Error('openssl is not installed (apt-get install -y openssl)');
  const dir = mkdtempSync(join(tmpdir(), 'fa-pki-'));
  try {
    const run = (...args: string[]) => execFileAsync(openssl, args, { cwd: dir });
    const rsa = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
    await Promise.all([
      run('genpkey', ...rsa, '-out', 'ca.key'),
      run('genpkey', ...rsa, '-out', 'key.pem'),
      run('genpkey', ...rsa, '-out', 'other.key'),
    ]);
    await run('req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '3650', '-subj', '/O=cluster.local', '-out', 'root-cert.pem');
    await run('req', '-new', '-key', 'key.pem', '-subj', '/O=', '-out', 'leaf.csr');
    writeFileSync(
      join(dir, 'ext.cnf'),
      `subjectAltName=critical,URI:spiffe://cluster.local/ns/${VM.namespace}/sa/${VM.serviceAccount}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`,
    );
    await run(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'root-cert.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      '0x6fbee254c22900615cb1f74e3d2f1713',
      '-days',
      '1',
      '-sha256',
      '-extfile',
      'ext.cnf',
      '-out',
      'leaf.pem',
    );
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const now = Math.floor(Date.now() / 1000);
    const jwtClaims = {
      aud: ['istio-ca'],
      exp: now + 3600,
      iat: now,
      iss: 'https://kubernetes.default.svc.cluster.local',
      'kubernetes.io': {
        namespace: VM.namespace,
        serviceaccount: { name: VM.serviceAccount, uid: '8c2a4c4e-3e5b-4c21-9d1f-7f0f1f1a2b3c' },
      },
      nbf: now,
      sub: `system:serviceaccount:${VM.namespace}:${VM.serviceAccount}`,
    };
    return {
      rootPem: read('root-cert.pem'),
      leafPem: read('leaf.pem'),
      keyPem: read('key.pem'),
      otherKeyPem: read('other.key'),
      jwt: signJwt(jwtClaims, read('ca.key')),
      jwtClaims,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** header.payload.signature, RS256: nobody on the VM checks the signature, but the token has one. */
export function signJwt(claims: Record<string, unknown>, keyPem: string): string {
  const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
  const signingInput = `${b64url(JSON.stringify({ alg: 'RS256', kid: 'fake-vm-signing-key' }))}.${b64url(JSON.stringify(claims))}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), createPrivateKey(keyPem)).toString('base64url')}`;
}
