import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeConfig, eksTokenUrl, mintEksToken } from '../../lib/adapters/kube-config.ts';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = new Date('2026-11-26T06:00:00.000Z');

/** SigV4 query signing written out from the AWS documentation, independently of @smithy/signature-v4. */
function expectedSignature(url: URL, secret: string, region: string, clusterName: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const canonicalQuery = params
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    `host:${url.host}`,
    `x-k8s-aws-id:${clusterName}`,
    '',
    'host;x-k8s-aws-id',
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date')!;
  const scope = `${amzDate.slice(0, 8)}/${region}/sts/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, amzDate.slice(0, 8)), region), 'sts'), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('mintEksToken', () => {
  it('is k8s-aws-v1. plus unpadded base64url of the presigned STS URL, exactly, for fixed credentials and time', async () => {
    const { token, expiresAt } = await mintEksToken({ clusterName: 'fleet', region: 'eu-west-1', credentials: CREDENTIALS, now: NOW });
    expect(token).toBe(
      'k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lERVhBTVBMRSUyRjIwMjYxMTI2JTJGZXUtd2VzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjExMjZUMDYwMDAwWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25hdHVyZT04MTk0M2JhOTU2YjYxMzBmOGMwOWI4OTQ3MGZlYzI3OGUxNzRhYzg5Yzc5ZmMxOWY1OTc5MzI3YTI4YWI5OTUxJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZA',
    );
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(expiresAt.toISOString()).toBe('2026-11-26T06:15:00.000Z');
  });

  it('decodes to a GetCallerIdentity URL presigned for sts with x-k8s-aws-id signed and a valid signature', async () => {
    const { token } = await mintEksToken({ clusterName: 'prod-mesh', region: 'us-east-1', credentials: async () => CREDENTIALS, now: NOW });
    const url = eksTokenUrl(token);
    expect(url.origin).toBe('https://sts.us-east-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261126/us-east-1/sts/aws4_request',
      'X-Amz-Date': '20261126T060000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    });
    expect(url.searchParams.has('x-k8s-aws-id')).toBe(false);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, CREDENTIALS.secretAccessKey, 'us-east-1', 'prod-mesh'));
  });

  it('carries the session token of temporary credentials', async () => {
    const { token } = await mintEksToken({
      clusterName: 'c',
      region: 'eu-central-1',
      credentials: { ...CREDENTIALS, sessionToken: 'FwoGZXIvYXdzE+/x=' },
      now: NOW,
    });
    expect(eksTokenUrl(token).searchParams.get('X-Amz-Security-Token')).toBe('FwoGZXIvYXdzE+/x=');
  });

  it('rejects what is not a region', async () => {
    await expect(mintEksToken({ clusterName: 'c', region: 'sts.evil.example/', credentials: CREDENTIALS })).rejects.toThrow(
      /not an AWS region/,
    );
  });
});

describe('buildKubeConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-kubeconfig-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- {name: a, cluster: {server: "https://a.example:6443"}}',
    '- {name: b, cluster: {server: "https://b.example:6443"}}',
    'users:',
    '- {name: u, user: {token: t}}',
    'contexts:',
    '- {name: ctx-a, context: {cluster: a, user: u}}',
    '- {name: ctx-b, context: {cluster: b, user: u}}',
    'current-context: ctx-a',
    '',
  ].join('\n');

  it('loads a kubeconfig file at its current context, or at the one named', async () => {
    const path = join(dir, 'config');
    writeFileSync(path, kubeconfig);
    expect((await buildKubeConfig({ kind: 'file', path })).kubeConfig.getCurrentCluster()?.server).toBe('https://a.example:6443');
    expect((await buildKubeConfig({ kind: 'file', path, context: 'ctx-b' })).kubeConfig.getCurrentCluster()?.server).toBe(
      'https://b.example:6443',
    );
    await expect(buildKubeConfig({ kind: 'file', path, context: 'ctx-c' })).rejects.toThrow(`${path} has no context named "ctx-c"`);
  });

  it('builds an EKS config whose user is the minted token and whose cluster trusts the given CA', async () => {
    const { kubeConfig, expiresAt } = await buildKubeConfig({
      kind: 'eks',
      clusterName: 'fleet',
      region: 'eu-west-1',
      server: 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
      caData: Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64'),
      credentials: CREDENTIALS,
      now: NOW,
    });
    expect(kubeConfig.getCurrentUser()?.token).toMatch(/^k8s-aws-v1\./);
    expect(eksTokenUrl(kubeConfig.getCurrentUser()!.token!).searchParams.get('X-Amz-Date')).toBe('20261126T060000Z');
    expect(kubeConfig.getCurrentCluster()).toMatchObject({
      server: 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
      skipTLSVerify: false,
    });
    expect(kubeConfig.getCurrentCluster()?.caData).toBeTruthy();
    expect(expiresAt?.toISOString()).toBe('2026-11-26T06:15:00.000Z');
  });
});
