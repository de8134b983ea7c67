import { Sha256 } from '@aws-crypto/sha256-js';

/**
 * The Content-Security-Policy source that allows one inline <script> or <style> by its content:
 * `'sha256-…'`, the base64 SHA-256 of the element's text as UTF-8 (CSP Level 3, hash-source). The hash
 * is computed in plain code so that rendering stays free of I/O and of the platform's crypto.
 */
export function cspHashSource(text: string): string {
  const hash = new Sha256();
  hash.update(new TextEncoder().encode(text));
  return `'sha256-${Buffer.from(hash.digestSync()).toString('base64')}'`;
}
