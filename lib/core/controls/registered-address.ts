import { fail, joinedVmControl, pass, skip, error } from './control.ts';

/**
 * Address ranges a VM may hold that no other machine can reach it at: registering one of them sends the
 * mesh's traffic nowhere (istio/istio#39519, #35343).
 */
const UNREACHABLE: Array<{ name: string; test: (ip: string) => boolean }> = [
  { name: 'a loopback address', test: (ip) => ip.startsWith('127.') || ip === '::1' },
  { name: 'a link-local address', test: (ip) => ip.startsWith('169.254.') || /^fe[89ab][0-9a-f]:/i.test(ip) },
  { name: "Docker's default bridge (172.17.0.0/16)", test: (ip) => ip.startsWith('172.17.') },
  { name: "Podman's default bridge (10.88.0.0/16)", test: (ip) => ip.startsWith('10.88.') },
  { name: "libvirt's default bridge (192.168.122.0/24)", test: (ip) => ip.startsWith('192.168.122.') },
];

/**
 * REG-07: the address the VM is registered at is the one AWS knows it by (SSM's `IPAddress`), unless
 * `ISTIO_SVC_IP` deliberately pins another; an address no other machine can reach always fails.
 */
export const reg07 = joinedVmControl(
  {
    id: 'REG-07',
    severity: 'HIGH',
    title: 'WorkloadEntry address reachable',
    remediation:
      "Compare `kubectl get workloadentry -n <namespace> -o wide` with the VM's address (`ip -4 addr`); set ISTIO_SVC_IP in cluster.env to the address " +
      'the mesh must use (the agent otherwise takes the first interface, which can be a container bridge) and restart the istio unit.',
  },
  (vm, snapshot) => {
    const entry = vm.workloadEntries[0];
    if (!entry) return skip('the VM has no WorkloadEntry (REG-01 reports it)');
    const address = entry.spec.address ?? '';
    const pinned = snapshot.clusterEnv.ok ? snapshot.clusterEnv.value.get('ISTIO_SVC_IP') || undefined : undefined;
    const known = vm.inventory?.IPAddress;
    const evidence = {
      workloadEntry: `${entry.metadata.namespace}/${entry.metadata.name}`,
      address,
      ssmIpAddress: known ?? null,
      istioSvcIp: pinned ?? null,
    };
    const unreachable = UNREACHABLE.find((range) => range.test(address));
    if (unreachable) return fail(`the VM is registered at ${address}, ${unreachable.name}: no other machine reaches it there`, evidence);
    if (pinned !== undefined && pinned === address)
      return pass(`the VM is registered at ${address}, the address ISTIO_SVC_IP pins`, evidence);
    if (!known) return error("SSM's inventory does not give the VM's address, so the registered one cannot be checked", evidence);
    if (known === address) return pass(`the VM is registered at ${address}, its address in SSM's inventory`, evidence);
    return fail(
      `the VM is registered at ${address}, but SSM knows it at ${known}${pinned ? ` and ISTIO_SVC_IP is ${pinned}` : ''}: the mesh may not reach it`,
      evidence,
    );
  },
  // A connected proxy at another address than SSM's is this control's own subject: it fails here, not ERROR.
  { decides: ['address'] },
);
