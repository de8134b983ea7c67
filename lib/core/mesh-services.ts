import { z } from 'zod';
import { ObjectMetaSchema } from './object-meta.ts';

/*
 * The Services and ServiceEntries of the cluster part (`cluster/services.json`, `cluster/serviceentries.json`),
 * validated one object at a time like the rest of the mesh view: a malformed one is reported, never a reason
 * to drop the others.
 */

/** One `status.loadBalancer.ingress` item: an IP, a DNS name, or both (core/v1 LoadBalancerIngress). */
const LoadBalancerIngressSchema = z.looseObject({ ip: z.string().optional(), hostname: z.string().optional() });

/** A core/v1 Service, with the fields the audit reads. */
export const ServiceSchema = z.looseObject({
  metadata: ObjectMetaSchema,
  spec: z
    .looseObject({
      type: z.string().optional(),
      selector: z.record(z.string(), z.string()).optional(),
      clusterIP: z.string().optional(),
      clusterIPs: z.array(z.string()).optional(),
      externalIPs: z.array(z.string()).optional(),
    })
    .optional(),
  status: z.looseObject({ loadBalancer: z.looseObject({ ingress: z.array(LoadBalancerIngressSchema).optional() }).optional() }).optional(),
});
export type Service = z.infer<typeof ServiceSchema>;

/** A networking.istio.io ServiceEntry, with the fields the audit reads. */
export const ServiceEntrySchema = z.looseObject({
  apiVersion: z.string().optional(),
  metadata: ObjectMetaSchema,
  spec: z.looseObject({
    hosts: z.array(z.string()).optional(),
    workloadSelector: z.looseObject({ labels: z.record(z.string(), z.string()).optional() }).optional(),
    exportTo: z.array(z.string()).optional(),
  }),
});
export type ServiceEntry = z.infer<typeof ServiceEntrySchema>;

/** Whether a non-empty selector selects `labels`: every key of it with the same value (a Service's or ServiceEntry's rule). */
export function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  const terms = Object.entries(selector ?? {});
  return terms.length > 0 && terms.every(([key, value]) => Object.hasOwn(labels, key) && labels[key] === value);
}

/** The label the east-west gateway's Service carries (samples/multicluster/gen-eastwest-gateway.sh), and istioctl's default name for it. */
export const EAST_WEST_GATEWAY_LABEL = { key: 'istio', value: 'eastwestgateway' } as const;
export const EAST_WEST_GATEWAY_NAME = 'istio-eastwestgateway';

/** Whether a Service is an east-west gateway's, by its label or the name `istioctl x workload entry configure` looks up. */
export function isEastWestGateway(service: Service): boolean {
  return (
    service.metadata.labels?.[EAST_WEST_GATEWAY_LABEL.key] === EAST_WEST_GATEWAY_LABEL.value ||
    service.metadata.name === EAST_WEST_GATEWAY_NAME
  );
}

/** The addresses a Service answers at, by where they come from (a cloud load balancer is often known by DNS name only). */
export interface ServiceAddresses {
  /** spec.clusterIP and spec.clusterIPs (not `None`). */
  clusterIps: string[];
  /** spec.externalIPs and the IPs of status.loadBalancer.ingress: what a machine outside the cluster reaches. */
  externalIps: string[];
  /** The DNS names of status.loadBalancer.ingress. */
  hostnames: string[];
}

export function serviceAddresses(service: Service): ServiceAddresses {
  const spec = service.spec;
  const clusterIps = new Set([spec?.clusterIP, ...(spec?.clusterIPs ?? [])].filter((ip): ip is string => !!ip && ip !== 'None'));
  const externalIps = new Set(spec?.externalIPs ?? []);
  const hostnames = new Set<string>();
  for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
    if (ingress.ip) externalIps.add(ingress.ip);
    if (ingress.hostname) hostnames.add(ingress.hostname);
  }
  return { clusterIps: [...clusterIps], externalIps: [...externalIps], hostnames: [...hostnames] };
}
