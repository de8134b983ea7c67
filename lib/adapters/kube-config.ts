import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { KubeConfig } from '@kubernetes/client-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { AWS_REGION } from '../shared/identifiers.ts';

/** Where the audit finds the Kubernetes API and how it authenticates. */
export type KubeConfigSource =
  /** The current context of the user's kubeconfig ($KUBECONFIG or ~/.kube/config), or the named one. */
  | { kind: 'default'; context?: string }
  /** A kubeconfig file, at its current context or the named one. */
  | { kind: 'file'; path: string; context?: string }
  /** The pod's ServiceAccount (KUBERNETES_SERVICE_HOST and /var/run/secrets/kubernetes.io/serviceaccount). */
  | { kind: 'in-cluster' }
  /**
   * An EKS cluster with a token minted here from the caller's AWS credentials (what
   * `aws eks get-token` prints). The endpoint and CA come from the cluster's description
   * (`aws eks describe-cluster`: endpoint, certificateAuthority.data).
   */
  | {
      kind: 'eks';
      clusterName: string;
      region: string;
      server: string;
      /** Base64 PEM of the cluster CA, as EKS returns it. */
      caData: string;
      /** Default: the SDK's default chain (environment, SSO, profile, web identity, container, instance). */
      credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
      /** Signing time; default now. */
      now?: Date;
    };

export interface BuiltKubeConfig {
  kubeConfig: KubeConfig;
  /** When the bearer token stops working, for sources that mint one. */
  expiresAt?: Date;
}

/** Builds the KubeConfig for a source; an EKS token is minted on every call (one per audit run). */
export async function buildKubeConfig(source: KubeConfigSource): Promise<BuiltKubeConfig> {
  const kubeConfig = new KubeConfig();
  switch (source.kind) {
    case 'default':
      kubeConfig.loadFromDefault();
      if (source.context) useContext(kubeConfig, source.context, 'the default kubeconfig');
      break;
    case 'file':
      try {
        kubeConfig.loadFromFile(source.path);
      } catch (error) {
        throw new Error(`cannot load the kubeconfig ${source.path}: ${(error as Error).message}`, { cause: error });
      }
      if (source.context) useContext(kubeConfig, source.context, source.path);
      break;
    case 'in-cluster':
      // loadFromCluster would otherwise build a server URL of "https://undefined:undefined".
      if (!process.env.KUBERNETES_SERVICE_HOST) throw new Error('not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST is not set');
      kubeConfig.loadFromCluster();
      break;
    case 'eks': {
      const { token, expiresAt } = await mintEksToken({
        clusterName: source.clusterName,
        region: source.region,
        credentials: source.credentials ?? defaultProvider(),
        ...(source.now ? { now: source.now } : {}),
      });
      kubeConfig.loadFromOptions({
        clusters: [{ name: source.clusterName, server: source.server, caData: source.caData, skipTLSVerify: false }],
        users: [{ name: 'fleet-audit', token }],
        contexts: [{ name: source.clusterName, cluster: source.clusterName, user: 'fleet-audit' }],
        currentContext: source.clusterName,
      });
      return { kubeConfig, expiresAt };
    }
  }
  if (!kubeConfig.getCurrentCluster())
    throw new Error(
      `the kubeconfig (${source.kind}) has no cluster for its current context ${JSON.stringify(kubeConfig.getCurrentContext())}`,
    );
  return { kubeConfig };
}

function useContext(kubeConfig: KubeConfig, context: string, where: string): void {
  if (!kubeConfig.getContextObject(context)) throw new Error(`${where} has no context named ${JSON.stringify(context)}`);
  kubeConfig.setCurrentContext(context);
}

export interface EksTokenRequest {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Signing time; default now. */
  now?: Date;
}

const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** EKS accepts a token for 15 minutes after signing, whatever X-Amz-Expires says. */
const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;
const PRESIGN_EXPIRES_SECONDS = 60;

/**
 * Mints an EKS bearer token as aws-iam-authenticator does: `k8s-aws-v1.` + unpadded base64url of an
 * STS GetCallerIdentity URL, query-presigned with SigV4 (service sts, X-Amz-Expires=60) with the
 * header `x-k8s-aws-id: <cluster name>` signed, so the token is good for that cluster only.
 */
export async function mintEksToken(request: EksTokenRequest): Promise<{ token: string; expiresAt: Date }> {
  if (!AWS_REGION.test(request.region)) throw new Error(`not an AWS region: ${JSON.stringify(request.region)}`);
  if (!request.clusterName) throw new Error('the EKS cluster name is empty');
  const signingDate = request.now ?? new Date();
  const hostname = `sts.${request.region}.amazonaws.com`;
  const signer = new SignatureV4({ credentials: request.credentials, region: request.region, service: 'sts', sha256: Sha256 });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': request.clusterName },
    }),
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate },
  );
  const presignedQuery = presigned.query ?? {};
  const signedHeaders = presignedQuery['X-Amz-SignedHeaders'];
  if (typeof signedHeaders !== 'string' || !signedHeaders.split(';').includes('x-k8s-aws-id')) {
    throw new Error('the presigned STS request does not sign x-k8s-aws-id: EKS would reject the token');
  }
  const query = Object.keys(presignedQuery)
    .sort()
    .map((key) => {
      const value = presignedQuery[key];
      return `${rfc3986(key)}=${rfc3986(Array.isArray(value) ? value.join(',') : (value ?? ''))}`;
    })
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: new Date(signingDate.getTime() + EKS_TOKEN_LIFETIME_MS),
  };
}

/** The presigned STS URL inside an EKS token (for diagnostics: never log the token itself). */
export function eksTokenUrl(token: string): URL {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) throw new Error(`not an EKS token: it does not start with ${EKS_TOKEN_PREFIX}`);
  return new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
