// Writes infra/ssm/fleet-audit-diagnostics.json from the diagnostic script, so the SSM document never
// drifts from the script (test/core/ssm-document.test.ts fails when the committed file is stale).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { buildSsmCommandDocument, renderSsmCommandDocument, ssmDocumentSizeBytes } from '../lib/core/ssm-document.ts';

const script = readFileSync(new URL('../lib/diagnostic-script/fleet-audit-diagnostics.sh', import.meta.url), 'utf8');
const text = renderSsmCommandDocument(buildSsmCommandDocument(script));
const target = new URL('../infra/ssm/fleet-audit-diagnostics.json', import.meta.url);
mkdirSync(new URL('.', target), { recursive: true });
writeFileSync(target, text);
console.log(`wrote ${target.pathname} (${ssmDocumentSizeBytes(text)} bytes)`);
