/** The parts of an Envoy RouteMatch istioctl describes, in the dump's snake_case. */
export interface RouteMatchFields {
  prefix?: string;
  path?: string;
  path_separated_prefix?: string;
  safe_regex?: { regex?: string };
}

/** istioctl's MATCH cell (writer/envoy/configdump listener.go describeMatch); headers are left out, as there. */
export function describeRouteMatch(match: RouteMatchFields): string {
  const conditions: string[] = [];
  if (match.prefix) conditions.push(`${match.prefix}*`);
  if (match.path_separated_prefix) conditions.push(`PathPrefix:${match.path_separated_prefix}`);
  if (match.path) conditions.push(match.path);
  if (match.safe_regex !== undefined) conditions.push(`regex ${match.safe_regex.regex ?? ''}`);
  return conditions.join(' ');
}
