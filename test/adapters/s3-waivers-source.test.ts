import { GetObjectCommand, S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3WaiversSource } from '../../lib/adapters/s3-waivers-source.ts';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const NOW = new Date('2026-12-01T00:00:00Z');
// What the adapter reads of a GetObject body: its text.
const body = (text: string) => ({ transformToString: async () => text }) as unknown as GetObjectCommandOutput['Body'];
const source = () =>
  new S3WaiversSource({ bucket: 'audit-bucket', key: 'config/waivers.yaml', client: new S3Client({ region: 'eu-west-1' }) });

describe('S3WaiversSource', () => {
  it('reads the YAML object the stage names, validated', async () => {
    s3.on(GetObjectCommand, { Bucket: 'audit-bucket', Key: 'config/waivers.yaml' }).resolves({
      Body: body(
        'waivers:\n  - control: NET-02\n    justification: capture is installed by the platform team\n    owner: platform\n    expires: 2027-03-01T00:00:00Z\n',
      ),
    });
    expect(await source().read(NOW)).toEqual([
      { control: 'NET-02', justification: 'capture is installed by the platform team', owner: 'platform', expires: '2027-03-01T00:00:00Z' },
    ]);
  });

  it('refuses a missing object, a malformed entry and an oversized object, naming the object', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
    await expect(source().read(NOW)).rejects.toThrow('s3://audit-bucket/config/waivers.yaml: the waivers object does not exist');
    s3.reset();
    s3.on(GetObjectCommand).resolves({ Body: body('{"waivers":[{"control":"NET-02","owner":"x","expires":"2027-01-01T00:00:00Z"}]}') });
    await expect(source().read(NOW)).rejects.toThrow('s3://audit-bucket/config/waivers.yaml: waivers[0] (NET-02): justification:');
    s3.reset();
    s3.on(GetObjectCommand).resolves({ ContentLength: 5 * 1024 * 1024, Body: body('') });
    await expect(source().read(NOW)).rejects.toThrow('holds more than 4194304 bytes');
  });

  it('reports another S3 failure as the call that failed', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(source().read(NOW)).rejects.toThrow(
      'GetObject failed: AccessDenied: Access Denied (s3://audit-bucket/config/waivers.yaml)',
    );
  });
});
