import { z } from 'zod';
import type { Evidence } from '../result.ts';
import type { FileEntry } from './certs-listing.ts';

export interface IstioToken {
  present: boolean;
  file: Omit<FileEntry, 'name' | 'size'> | undefined;
  /** The JWT's `exp` claim, epoch seconds. */
  expEpochSeconds: number | undefined;
  audiences: string[];
  subject: string | undefined;
}

// RFC 7519 registered claims; a Kubernetes projected token carries `exp`, `iat`, `aud`, `sub`.
const ClaimsSchema = z.looseObject({
  exp: z.number().int().optional(),
  iat: z.number().int().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  sub: z.string().optional(),
});

/** Parses the `token` section: presence, file metadata and the JWT payload segment alone. Never throws. */
export function parseIstioToken(text: string): Evidence<IstioToken> {
  if (/^present=no$/m.test(text))
    return { ok: true, value: { present: false, file: undefined, expEpochSeconds: undefined, audiences: [], subject: undefined } };
  if (!/^present=yes$/m.test(text)) return { ok: false, reason: 'the token section says neither present=yes nor present=no' };
  const meta =
    /^mode=(?<mode>[0-7]{3,4}) uid=(?<uid>\d{1,10}) gid=(?<gid>\d{1,10}) owner=(?<owner>\S{1,64}) mtime=(?<mtime>\d{1,12})$/m.exec(
      text,
    )?.groups;
  const payload = /^payload=(?<p>[A-Za-z0-9_-]{1,8192})$/m.exec(text)?.groups?.p;
  let claims: z.infer<typeof ClaimsSchema> | undefined;
  if (payload) {
    try {
      const parsed = ClaimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
      if (parsed.success) claims = parsed.data;
    } catch {
      claims = undefined;
    }
  }
  if (!claims) return { ok: false, reason: 'the istio-token payload is not a JWT claims set' };
  return {
    ok: true,
    value: {
      present: true,
      file: meta
        ? {
            mode: parseInt(meta.mode!, 8),
            uid: Number(meta.uid),
            gid: Number(meta.gid),
            owner: meta.owner!,
            mtimeEpochSeconds: Number(meta.mtime),
          }
        : undefined,
      expEpochSeconds: claims.exp,
      audiences: claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud],
      subject: claims.sub,
    },
  };
}
