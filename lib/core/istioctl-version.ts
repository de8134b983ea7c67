/**
 * The istioctl releases whose `proxy-config` and `proxy-status` output this project reproduces. A table is
 * printed in the layout of one minor release: the patch releases of a minor print the same tables, except
 * where a renderer says otherwise.
 */
export const ISTIOCTL_VERSIONS = ['1.24', '1.25', '1.26', '1.27', '1.28', '1.29'] as const;
export type IstioctlVersion = (typeof ISTIOCTL_VERSIONS)[number];

/** The layout used when nothing says which Istio serves the proxy. */
export const NEWEST_ISTIOCTL_VERSION: IstioctlVersion = '1.29';

/** Which layout a version string asks for, and why when it is not that version itself. */
export interface IstioctlVersionChoice {
  version: IstioctlVersion;
  /** Set when the text named a release outside 1.24–1.29 and the nearest supported one is used. */
  note?: string;
}

/**
 * Reads `1.26`, `1.26.3`, `v1.26.3`, `1.26.3-distroless` or `1.21.0-1226` as a minor release; a release
 * before 1.24 takes the 1.24 layout and one after 1.29 the 1.29 layout (with a note saying so). Undefined
 * when the text is not a version. Never throws.
 */
export function chooseIstioctlVersion(text: string): IstioctlVersionChoice | undefined {
  const m = /^v?(?<major>\d+)\.(?<minor>\d+)(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]*)?$/.exec(text.trim())?.groups;
  if (!m?.major || !m.minor) return undefined;
  const major = Number(m.major);
  const minor = Number(m.minor);
  const exact = ISTIOCTL_VERSIONS.find((v) => v === `${major}.${minor}`);
  if (exact) return { version: exact };
  const first = ISTIOCTL_VERSIONS[0];
  const before = major < 1 || (major === 1 && minor < 24);
  const nearest = before ? first : NEWEST_ISTIOCTL_VERSION;
  return { version: nearest, note: `Istio ${text.trim()} is outside 1.24–1.29: printing the ${nearest} layout` };
}

/** Whether `version` is `since` or a later release. */
export function isAtLeast(version: IstioctlVersion, since: IstioctlVersion): boolean {
  return ISTIOCTL_VERSIONS.indexOf(version) >= ISTIOCTL_VERSIONS.indexOf(since);
}
