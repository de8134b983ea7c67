import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { RUN_TABLE } from '../lib/compose/aws-side.ts';
import { composeReportingSide } from '../lib/compose/reporting-side.ts';
import type { AuditTarget, StartRunResult } from '../lib/http-api/deps.ts';
import { createHttpApiHandler } from '../lib/http-api/handler.ts';
import { startAudit } from '../lib/use-cases/start-audit.ts';
import { auditSideFromEnv } from './shared/aws.ts';
import type { FleetConfig } from './shared/config.ts';
import { once } from './shared/config.ts';
import { createLogger } from './shared/logger.ts';
import { newRunId } from '../lib/shared/identifiers.ts';

/**
 * The HTTP API on Lambda (API Gateway HTTP API, IAM authorization): the routes are lib/http-api's, over
 * the run table, the evidence bucket and SSM. Lambda answers at most 6 MB, so larger reports are a
 * redirect to a link valid for five minutes.
 */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

export { ROUTES } from '../lib/http-api/handler.ts';

/** What this deployment can audit on demand: the target tag's nodes (all or some values), or listed instances. */
export function fleetTargetOf(
  target: AuditTarget,
  config: FleetConfig,
): { target?: { kind: 'instanceIds'; instanceIds: string[] } | { kind: 'tag'; key: string; values?: string[] } } | { refused: string } {
  switch (target.kind) {
    case 'default':
      return {};
    case 'instanceIds':
      return { target: { kind: 'instanceIds', instanceIds: target.instanceIds } };
    case 'tag': {
      // The functions may command only nodes with the target tag (and its values): say so rather than fail in SSM.
      const allowed = config.tag.values;
      if (target.key !== config.tag.key || (allowed && target.values.some((v) => !allowed.includes(v)))) {
        return { refused: `this deployment audits nodes tagged ${config.tag.key}${allowed ? `=${allowed.join(',')}` : ''} only` };
      }
      return { target: { kind: 'tag', key: target.key, values: target.values } };
    }
    case 'namespace':
      return {
        refused:
          'targeting a namespace needs the mesh when the audit starts, which this deployment reads only when it finalizes; target by tag or instance ids',
      };
  }
}

/** Lambda entry point. */
export const handler = createHttpApiHandler(
  once(async () => {
    const { storage, fleetConfig, store, registry, side } = auditSideFromEnv(process.env);
    const reporting = composeReportingSide({ region: storage.region });
    const logger = createLogger();
    return {
      registry,
      reports: reporting.reportFiles(storage.bucket),
      history: reporting.history(storage.bucket),
      idempotency: new DynamoDBPersistenceLayer({
        tableName: storage.table,
        keyAttr: RUN_TABLE.partitionKey,
        expiryAttr: RUN_TABLE.ttlAttribute,
        clientConfig: { region: storage.region },
      }),
      newRunId: () => newRunId(new Date(), 'api'),
      maxBodyBytes: MAX_BODY_BYTES,
      logger,
      close: () => side.close(),
      async startRun(runId: string, target: AuditTarget): Promise<StartRunResult> {
        const reach = fleetTargetOf(target, fleetConfig);
        if ('refused' in reach) return { kind: 'refused', detail: reach.refused };
        const started = await startAudit(
          { registry, store, fleet: (id) => side.fleet(id, reach.target), clock: () => new Date(), apiCalls: () => side.callCounts() },
          {
            runId,
            trigger: 'api',
            toolVersion: storage.toolVersion,
            targets: reach.target ?? { tag: fleetConfig.tag },
            collectForMs: fleetConfig.collectForMs,
          },
        );
        return started.kind === 'duplicate' ? { kind: 'duplicate' } : { kind: 'started', status: 'COLLECTING' };
      },
    };
  }),
);
