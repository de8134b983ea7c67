/**
 * Child of the benchmark: analyzes a stored bundle through the path `fleet-audit analyze` takes (the local
 * store's reader, analyzeStoredBundle, the local report writer) and reports the time and its peak RSS.
 *
 *   node bench/measure-analysis.ts <bundle dir> <report dir>
 */
import { LocalArtifactWriter, LocalBundle } from '../lib/adapters/local-audit-store.ts';
import { analyzeStoredBundle } from '../lib/use-cases/analyze-bundle.ts';
import { reportToParent } from './child-measure.ts';

const [bundleDir, reportDir] = process.argv.slice(2);
if (!bundleDir || !reportDir) throw new Error('usage: measure-analysis.ts <bundle dir> <report dir>');

const started = performance.now();
const result = await analyzeStoredBundle(new LocalBundle(bundleDir), new LocalArtifactWriter(reportDir));
const ms = performance.now() - started;
reportToParent({ ms, vmsInReport: result.report.summary.vms, written: result.written });
