// Writes schema/report.schema.json from the report's zod schema, so the committed JSON Schema never
// drifts from the code (test/core/report-schema.test.ts fails when it is stale).
import { writeFileSync } from 'node:fs';
import { reportJsonSchemaText } from '../lib/core/report.ts';

const target = new URL('../schema/report.schema.json', import.meta.url);
writeFileSync(target, reportJsonSchemaText());
console.log(`wrote ${target.pathname}`);
