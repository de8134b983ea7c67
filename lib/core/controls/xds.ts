import { error, fail, pass, vmControl } from './control.ts';

/** XDS-01: the VM's proxy is connected to some istiod replica (merged /debug/syncz of all replicas). */
export const xds01 = vmControl(
  {
    id: 'XDS-01',
    severity: 'CRITICAL',
    title: 'Proxy connected to istiod',
    remediation:
      'Run `istioctl proxy-status`; on the VM check `journalctl -u istio` for connection errors to istiod and that ' +
      '`discoveryAddress` in /etc/istio/config/mesh resolves (/etc/hosts) and is reachable on 15012.',
  },
  (vm, _snapshot, ctx) => {
    if (!ctx.mesh.available) return error('the bundle holds no cluster evidence (cluster/ is missing)');
    if (!vm.proxyName) return error('the proxy name is unknown: the VM reported neither a node id nor hostname and ISTIO_NAMESPACE');
    if (vm.ambiguities.length > 0) return error(`the join is ambiguous: ${vm.ambiguities.join('; ')}`, { proxy: vm.proxyName });
    if (vm.proxy.length > 0) {
      return pass(`${vm.proxyName} is connected to ${vm.proxy.map((p) => p.replica).join(', ')}`, {
        proxy: vm.proxyName,
        istiod: vm.proxy.map((p) => p.replica),
      });
    }
    const silent = ctx.mesh.istiods.filter((i) => !i.answered).map((i) => i.name);
    if (silent.length > 0) {
      return error(`${vm.proxyName} is on no replica that answered, and ${silent.join(', ')} did not answer`, { proxy: vm.proxyName, silentReplicas: silent });
    }
    if (ctx.mesh.istiods.length === 0) return error('no istiod replica was found, so no proxy status could be read', { proxy: vm.proxyName });
    return fail(`${vm.proxyName} is not connected to any istiod replica`, {
      proxy: vm.proxyName,
      replicasAsked: ctx.mesh.istiods.map((i) => i.name),
    });
  },
);
