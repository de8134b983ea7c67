import { z } from 'zod';
import { parsePeriod } from '../core/compliance/compliance-report.ts';
import { renderComplianceCsv } from '../core/render/compliance-csv.ts';
import { renderComplianceHtml } from '../core/render/compliance-html.ts';
import { complianceOverTime } from '../use-cases/compliance-over-time.ts';
import type { HttpApiDeps } from './deps.ts';
import { jsonResponse, type HttpApiEvent, type HttpResponse } from './http-types.ts';
import { problem } from './problem.ts';
import { firstIssueText } from '../shared/zod-issues.ts';

const ComplianceQuerySchema = z.strictObject({
  since: z
    .string()
    .refine((s) => parsePeriod(s) !== undefined, { error: 'must be a period such as 30d, 12h or 2w' })
    .default('30d'),
  format: z.enum(['json', 'html', 'csv']).default('json'),
});

/** `GET /compliance?since=30d&format=json|html|csv`: compliance over the period that ends with the newest run. */
export async function complianceRoute(d: HttpApiDeps, event: HttpApiEvent, instance: string): Promise<HttpResponse> {
  const query = ComplianceQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) return problem(400, `invalid query: ${firstIssueText(query.error)}`, instance);
  const { compliance, unreadable } = await complianceOverTime(d.history, parsePeriod(query.data.since)!);
  if (unreadable.length > 0) d.logger.error('stored runs left out of compliance', { runs: unreadable.slice(0, 20) });
  if (query.data.format === 'json') return jsonResponse(200, compliance);
  const [type, body] =
    query.data.format === 'csv'
      ? ['text/csv; charset=utf-8', renderComplianceCsv(compliance)]
      : ['text/html; charset=utf-8', renderComplianceHtml(compliance)];
  return { statusCode: 200, headers: { 'content-type': type, 'cache-control': 'no-store' }, body };
}
