import { formatSerialHex, type CertificateInfo } from '../certificates/pem.ts';
import type { CertsListing } from '../parsers/certs-listing.ts';
import type { VmSnapshot } from '../vm-snapshot.ts';
import { error, fail, pass, skip, vmControl, withEvidence, withoutCluster, type Outcome } from './control.ts';

const DAY_MS = 86_400_000;
const describe = (c: CertificateInfo): Record<string, unknown> => ({
  subject: c.subject,
  serial: formatSerialHex(c.serialNumber),
  notBefore: c.notBefore.toISOString(),
  notAfter: c.notAfter.toISOString(),
  sha256: c.sha256Fingerprint,
});

/** CERT-01: the `default` secret is ACTIVE, valid now, and more than 25 % of its lifetime remains. */
export const cert01 = vmControl(
  {
    id: 'CERT-01',
    severity: 'HIGH',
    title: 'Workload certificate active and rotating',
    remediation:
      'Run `curl -s localhost:15000/config_dump | fleet-audit proxy-config secret --file -`; a certificate past half its life means ' +
      'the agent cannot reach the CA (istiod on 15012) — read `journalctl -u istio` for CSR errors.',
  },
  (_vm, snapshot, ctx) => {
    if (snapshot.sections.get('envoy-secrets-active')?.rc === 7)
      return error('the Envoy admin port refused the connection: the proxy is not running (see HEALTH-01)');
    return withEvidence(snapshot.secrets, (secrets) => {
      const active = secrets.find((s) => s.resourceName === 'default' && s.status === 'ACTIVE');
      const warming = secrets.find((s) => s.resourceName === 'default' && s.status === 'WARMING');
      if (!active)
        return fail(warming ? 'the default certificate is stuck WARMING: Envoy never received it' : 'Envoy holds no default certificate');
      const leaf = active.primary;
      if (!leaf) return error('the default secret holds no readable certificate');
      const evidence = describe(leaf);
      if (ctx.now < leaf.notBefore || ctx.now >= leaf.notAfter)
        return fail(
          `the default certificate is not valid now (valid ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})`,
          evidence,
        );
      const lifetime = leaf.notAfter.getTime() - leaf.notBefore.getTime();
      const remaining = (leaf.notAfter.getTime() - ctx.now.getTime()) / lifetime;
      const share = `${Math.round(remaining * 100)} %`;
      if (remaining <= ctx.thresholds.minRemainingLifetime)
        return fail(`only ${share} of the default certificate's lifetime remains: rotation (due at 50 %) is failing`, {
          ...evidence,
          remaining: share,
        });
      return pass(`the default certificate is ACTIVE with ${share} of its lifetime left`, { ...evidence, remaining: share });
    });
  },
);

/** CERT-03: the root certificate expires more than 30 days from now. */
export const cert03 = vmControl(
  {
    id: 'CERT-03',
    severity: 'HIGH',
    title: 'Root certificate not about to expire',
    remediation: 'Rotate the mesh root (Istio "plug in CA certificates") and redistribute root-cert.pem to the VMs before it expires.',
  },
  (_vm, snapshot, ctx) =>
    withEvidence(snapshot.rootCert, (certs) => {
      const root = certs[0]!;
      const left = root.notAfter.getTime() - ctx.now.getTime();
      const days = Math.floor(left / DAY_MS);
      const evidence = { ...describe(root), daysLeft: days };
      if (left <= ctx.thresholds.rootMinDays * DAY_MS)
        return fail(days < 0 ? `the root certificate expired ${-days} days ago` : `the root certificate expires in ${days} days`, evidence);
      return pass(`the root certificate is valid for ${days} more days`, evidence);
    }),
);

/**
 * Where the agent writes its certificates, as istio-start.sh hands it over: OUTPUT_CERTS, else PROV_CERT,
 * else its default ./etc/certs (run from /). Undefined when the environment is unknown.
 */
function configuredCertsDirectory(snapshot: VmSnapshot): string | undefined {
  if (!snapshot.clusterEnv.ok) return undefined;
  const env = snapshot.clusterEnv.value;
  const value = env.get('OUTPUT_CERTS') ?? env.get('PROV_CERT') ?? './etc/certs';
  return value === './etc/certs' ? '/etc/certs' : value.replace(/(?<=.)\/+$/, '');
}

/**
 * Why the directory the script read may not be the agent's: a value it would not take as a directory,
 * or one that differs from the environment (an output of a script that read /etc/certs only).
 */
function certsDirectoryDoubt(snapshot: VmSnapshot, listing: CertsListing): string | undefined {
  if (listing.refused)
    return `${listing.refused} is not an absolute path of plain characters, so the script read ${listing.directory} instead of the agent's certificates`;
  const configured = configuredCertsDirectory(snapshot);
  if (configured !== undefined && configured !== listing.directory)
    return `the VM's environment puts the certificates in ${configured}, but the script read ${listing.directory}`;
  return undefined;
}

/** CERT-04: the certificates' directory holds the three files, the on-disk leaf is valid, and key.pem is private to istio-proxy or root. */
export const cert04 = vmControl(
  {
    id: 'CERT-04',
    severity: 'HIGH',
    title: 'On-disk certificates usable and key protected',
    remediation:
      'Run `ls -l /etc/certs`; `chmod 600 /etc/certs/key.pem && chown istio-proxy /etc/certs/key.pem`; an expired on-disk leaf is rewritten by the agent once it holds a fresh certificate (check OUTPUT_CERTS in cluster.env).',
  },
  (_vm, snapshot, ctx) =>
    withEvidence(snapshot.certs, (listing): Outcome => {
      const dir = listing.directory;
      const doubt = certsDirectoryDoubt(snapshot, listing);
      if (doubt) return error(doubt, { directory: dir, source: listing.source });
      if (!listing.present) return fail(`${dir} does not exist${listing.source === 'default' ? '' : ` (${listing.source})`}`);
      if (snapshot.sections.get('certs')?.missing.includes('stat'))
        return error(`stat is not installed on the VM: the files of ${dir} could not be described`);
      if (listing.unreadable.length > 0) return error(`stat could not describe ${listing.unreadable.join(', ')}`);
      const names = new Set(listing.files.map((f) => f.name));
      const missing = ['cert-chain.pem', 'key.pem', 'root-cert.pem'].filter((n) => !names.has(n));
      const key = listing.files.find((f) => f.name === 'key.pem');
      const evidence: Record<string, unknown> = {
        directory: dir,
        source: listing.source,
        files: listing.files.map((f) => ({ name: f.name, mode: f.mode.toString(8).padStart(4, '0'), owner: f.owner })),
        keyMatch: listing.keyMatch,
      };
      const problems: string[] = [];
      if (missing.length > 0) problems.push(`missing ${missing.join(', ')}`);
      if (key && (key.mode & 0o077) !== 0)
        problems.push(`key.pem is mode ${key.mode.toString(8).padStart(4, '0')}: readable beyond its owner`);
      if (key && key.owner !== 'istio-proxy' && key.owner !== 'root' && key.uid !== 0) problems.push(`key.pem is owned by ${key.owner}`);
      if (listing.keyMatch === 'no') problems.push('key.pem is not the key of the leaf certificate');
      if (names.has('cert-chain.pem')) {
        if (!snapshot.certChain.ok) return error(snapshot.certChain.reason, evidence);
        const leaf = snapshot.certChain.value[0]!;
        evidence.leaf = describe(leaf);
        if (leaf.notAfter <= ctx.now) problems.push(`the on-disk leaf expired at ${leaf.notAfter.toISOString()}`);
        const served = snapshot.secrets.ok
          ? snapshot.secrets.value.find((s) => s.resourceName === 'default' && s.status === 'ACTIVE')?.primary
          : undefined;
        if (served && served.serialNumber !== leaf.serialNumber && leaf.notBefore < served.notBefore) {
          problems.push(
            `the on-disk leaf (serial ${formatSerialHex(leaf.serialNumber)}) is older than the one Envoy serves (${formatSerialHex(served.serialNumber)})`,
          );
        }
        if (problems.length === 0 && !served) {
          return error(
            `whether the on-disk leaf is the one Envoy serves cannot be told: ${snapshot.secrets.ok ? 'Envoy holds no ACTIVE default certificate' : snapshot.secrets.reason}`,
            evidence,
          );
        }
      }
      return problems.length === 0
        ? pass(`cert-chain.pem, key.pem and root-cert.pem are present in ${dir}, the leaf is valid and the key is private`, evidence)
        : fail(problems.join('; '), evidence);
    }),
);

/** CERT-05: the VM's clock is within 60 s of the auditor's (the SSM execution window, else the run's). */
export const cert05 = vmControl(
  {
    id: 'CERT-05',
    severity: 'MEDIUM',
    title: 'VM clock in sync',
    remediation: 'Check time synchronisation on the VM (`timedatectl`, `chronyc tracking`); certificate validity depends on the clock.',
  },
  (vm, snapshot, ctx) =>
    withEvidence(snapshot.identity, (identity) => {
      if (identity.clockEpochSeconds === undefined) return error('the VM did not report its clock');
      const start = Date.parse(vm.invocation?.ExecutionStartDateTime ?? '') || undefined;
      const end = Date.parse(vm.invocation?.ExecutionEndDateTime ?? '') || undefined;
      const from = start ?? end ?? ctx.now.getTime();
      const to = end ?? ctx.now.getTime();
      const vmMs = identity.clockEpochSeconds * 1000;
      const skew = vmMs < from ? (vmMs - from) / 1000 : vmMs > to ? (vmMs - to) / 1000 : 0;
      const evidence = {
        vmClock: new Date(vmMs).toISOString(),
        auditorWindow: [new Date(from).toISOString(), new Date(to).toISOString()],
        skewSeconds: Math.round(skew),
      };
      if (Math.abs(skew) > ctx.thresholds.maxClockSkewSeconds)
        return fail(`the VM clock is ${Math.round(Math.abs(skew))} s ${skew < 0 ? 'behind' : 'ahead'}`, evidence);
      return pass('the VM clock agrees with the auditor within 60 s', evidence);
    }),
);

/** CERT-06: when the on-disk certificate is missing or expired, the bootstrap istio-token is present and unexpired. */
export const cert06 = vmControl(
  {
    id: 'CERT-06',
    severity: 'MEDIUM',
    title: 'VM can re-bootstrap',
    remediation:
      'Generate a new token (`istioctl x workload entry configure … --tokenDuration`) and copy it to /var/run/secrets/tokens/istio-token.',
  },
  (_vm, snapshot, ctx) => {
    // The on-disk certificate is read from the directory the certs section names; without that section,
    // only the default directory is known to be the one read.
    const configured = configuredCertsDirectory(snapshot);
    const doubt = snapshot.certs.ok
      ? certsDirectoryDoubt(snapshot, snapshot.certs.value)
      : configured !== undefined && configured !== '/etc/certs'
        ? `the certificates are in ${configured}, and which directory the script read is unknown (${snapshot.certs.reason})`
        : undefined;
    if (doubt) return error(doubt);
    const leaf = snapshot.certChain.ok ? snapshot.certChain.value[0] : undefined;
    // An absent file (rc 1, nothing printed) is "no on-disk certificate"; anything else unreadable is unknown.
    const chainSection = snapshot.sections.get('cert-chain-pem');
    const noFile = chainSection !== undefined && chainSection.rc === 1 && !chainSection.cut;
    if (!snapshot.certChain.ok && !noFile) return error(snapshot.certChain.reason);
    if (leaf && leaf.notAfter > ctx.now)
      return skip('the on-disk certificate is valid: the VM does not need its token to rejoin', {
        leafNotAfter: leaf.notAfter.toISOString(),
      });
    return withEvidence(snapshot.token, (token) => {
      const why = leaf ? 'the on-disk certificate expired' : 'there is no on-disk certificate';
      if (!token.present) return fail(`${why} and there is no istio-token: the VM cannot rejoin the mesh after a restart`);
      const evidence = {
        tokenExp: token.expEpochSeconds === undefined ? null : new Date(token.expEpochSeconds * 1000).toISOString(),
        audiences: token.audiences,
      };
      if (token.expEpochSeconds === undefined) return fail(`${why} and the istio-token has no expiry claim`, evidence);
      if (token.expEpochSeconds * 1000 <= ctx.now.getTime())
        return fail(`${why} and the istio-token expired at ${evidence.tokenExp}`, evidence);
      return pass(`${why}, but the istio-token is valid until ${evidence.tokenExp}`, evidence);
    });
  },
);

/**
 * CERT-02: the proxy's ROOTCA and /etc/certs/root-cert.pem match the mesh root, by SHA-256 fingerprint. The root
 * is the ConfigMap istiod publishes (istio-ca-root-cert, or the name its PILOT_CA_CERT_CONFIGMAP gives), as read.
 */
export const cert02 = vmControl(
  {
    id: 'CERT-02',
    severity: 'CRITICAL',
    title: 'VM trusts the mesh root',
    remediation:
      "Copy the current root to the VM: `kubectl get configmap istio-ca-root-cert -n <namespace> -o jsonpath='{.data.root-cert\\.pem}' > /etc/certs/root-cert.pem`, " +
      'then `systemctl restart istio`.',
  },
  (vm, snapshot, ctx) => {
    if (!ctx.mesh.available) return withoutCluster(ctx);
    if (!vm.namespace) return error('the VM reported no ISTIO_NAMESPACE');
    const configMap = ctx.meshRoots.get(vm.namespace);
    if (!configMap)
      return error(
        `the bundle holds no root-of-trust ConfigMap for ${vm.namespace} (istio-ca-root-cert, or the name istiod's PILOT_CA_CERT_CONFIGMAP gives)`,
      );
    if (configMap.length === 0) return error(`the root-of-trust ConfigMap of ${vm.namespace} holds no readable certificate`);
    const mesh = new Set(configMap.map((c) => c.sha256Fingerprint));
    const rootca = snapshot.secrets.ok
      ? snapshot.secrets.value.find((s) => s.resourceName === 'ROOTCA' && s.status === 'ACTIVE')?.certificates
      : undefined;
    const onDisk = snapshot.rootCert.ok ? snapshot.rootCert.value : undefined;
    const evidence = {
      meshRoots: [...mesh],
      rootca: rootca?.map((c) => c.sha256Fingerprint) ?? null,
      rootCertPem: onDisk?.map((c) => c.sha256Fingerprint) ?? null,
    };
    const problems: string[] = [];
    if (rootca !== undefined && !rootca.some((c) => mesh.has(c.sha256Fingerprint)))
      problems.push(rootca.length ? "Envoy's ROOTCA is not the mesh root" : 'Envoy holds no ROOTCA');
    if (onDisk !== undefined && !onDisk.some((c) => mesh.has(c.sha256Fingerprint)))
      problems.push('/etc/certs/root-cert.pem is not the mesh root');
    if (problems.length > 0) return fail(`${problems.join('; ')}: mTLS with the mesh fails after the rotation`, evidence);
    // Both anchors must be checked: the one not read could be the stale one.
    if (rootca === undefined)
      return error(`Envoy's ROOTCA could not be read (${snapshot.secrets.ok ? 'no ACTIVE ROOTCA' : snapshot.secrets.reason})`, evidence);
    if (onDisk === undefined)
      return error(`/etc/certs/root-cert.pem could not be read (${snapshot.rootCert.ok ? '' : snapshot.rootCert.reason})`, evidence);
    return pass(`the VM trusts the mesh root of ${vm.namespace}`, evidence);
  },
);
