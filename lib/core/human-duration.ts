// Go's time.Duration is an int64 of nanoseconds: time.Since saturates at about 292 years.
const MAX_GO_DURATION_MS = 9_223_372_036_854;

/**
 * An age as Kubernetes prints it (k8s.io/apimachinery/pkg/util/duration HumanDuration, which istioctl
 * uses for the age of a proxy-status state): two units at most, coarser as the age grows, `0s` for up to
 * a second of clock skew and `<invalid>` beyond. `milliseconds` is `now - then`.
 */
export function humanDuration(milliseconds: number): string {
  const ms = Math.min(milliseconds, MAX_GO_DURATION_MS);
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return withRest(Math.trunc(hours / 24), 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) return withRest(Math.trunc(hours / 24 / 365), 'y', Math.trunc(hours / 24) % 365, 'd');
  return `${Math.trunc(hours / 24 / 365)}y`;
}

function withRest(whole: number, unit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${whole}${unit}` : `${whole}${unit}${rest}${restUnit}`;
}
