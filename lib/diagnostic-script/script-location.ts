/**
 * Where the diagnostic script is: beside this module in a source checkout, and beside the bundled CLI in
 * the npm package (the build copies it there), so one relative URL serves both.
 */
export const DIAGNOSTIC_SCRIPT_URL = new URL('./fleet-audit-diagnostics.sh', import.meta.url);
