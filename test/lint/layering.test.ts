import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// Lints snippets as if they lived at a given path, with the project's own ESLint configuration.
const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path });
  return result!.messages.map((m) => m.message);
}

describe('the layering lint rules', () => {
  it('keep lib/core from importing other layers, at any depth', async () => {
    expect(
      await problems('lib/core/controls/x.ts', "import { runAudit } from '../../use-cases/run-audit.ts';\nexport const x = runAudit;\n"),
    ).toEqual(['lib/core must not import lib/use-cases (../../use-cases/run-audit.ts).']);
    expect(
      await problems('lib/core/x.ts', "import { LocalBundle } from '../adapters/local-audit-store.ts';\nexport const x = LocalBundle;\n"),
    ).toHaveLength(1);
    expect(await problems('lib/core/render/x.ts', "import { escapeHtml } from './text.ts';\nexport const x = escapeHtml;\n")).toEqual([]);
  });

  it('keep lib/core free of I/O, environment and clock', async () => {
    const found = await problems(
      'lib/core/x.ts',
      "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\nexport const b = process.env.HOME;\nexport const c = Date.now();\n",
    );
    expect(found).toHaveLength(3);
    expect(await problems('lib/core/x.ts', "import { X509Certificate } from 'node:crypto';\nexport const a = X509Certificate;\n")).toEqual(
      [],
    );
  });

  it('let only lib/adapters import the AWS SDK and the Kubernetes client', async () => {
    const sdk = "import { SSMClient } from '@aws-sdk/client-ssm';\nexport const a = SSMClient;\n";
    expect(await problems('lib/adapters/x.ts', sdk)).toEqual([]);
    expect(await problems('lib/use-cases/x.ts', sdk)).toEqual([
      "'@aws-sdk/client-ssm' import is restricted from being used by a pattern. Only lib/adapters may import the AWS SDK.",
    ]);
    expect(
      await problems('functions/x.ts', "import { KubeConfig } from '@kubernetes/client-node';\nexport const a = KubeConfig;\n"),
    ).toEqual([
      "'@kubernetes/client-node' import is restricted from being used by a pattern. Only lib/adapters may import the Kubernetes client.",
    ]);
  });

  it('keep use cases on ports, not adapters', async () => {
    expect(
      await problems(
        'lib/use-cases/x.ts',
        "import { LocalBundle } from '../adapters/local-audit-store.ts';\nexport const a = LocalBundle;\n",
      ),
    ).toEqual(['lib/use-cases must not import lib/adapters (../adapters/local-audit-store.ts).']);
  });

  it('let every layer import lib/shared, and lib/shared import nothing of the project outside itself', async () => {
    const ids = "import { isInstanceId } from '../shared/identifiers.ts';\nexport const a = isInstanceId;\n";
    for (const layer of ['lib/core', 'lib/ports', 'lib/use-cases', 'lib/adapters', 'lib/http-api'])
      expect(await problems(`${layer}/x.ts`, ids), layer).toEqual([]);
    expect(
      await problems('cli/x.ts', "import { isInstanceId } from '../lib/shared/identifiers.ts';\nexport const a = isInstanceId;\n"),
    ).toEqual([]);
    expect(await problems('lib/shared/x.ts', "import { analyze } from '../core/analyze.ts';\nexport const a = analyze;\n")).toEqual([
      'lib/shared must not import lib/core (../core/analyze.ts).',
    ]);
    expect(await problems('lib/shared/x.ts', "import { errorCode } from './error-code.ts';\nexport const a = errorCode;\n")).toEqual([]);
    expect(await problems('lib/shared/x.ts', "import { S3Client } from '@aws-sdk/client-s3';\nexport const a = S3Client;\n")).toHaveLength(
      1,
    );
  });

  it('keep the simulated fleet out of lib/: no directory of lib/ may import sim/', async () => {
    const fleet = "import { buildSimFleet } from '../../sim/fleet.ts';\nexport const a = buildSimFleet;\n";
    for (const layer of ['lib/core', 'lib/ports', 'lib/use-cases', 'lib/adapters', 'lib/http-api', 'lib/shared', 'lib/diagnostic-script']) {
      expect(await problems(`${layer}/x.ts`, fleet), layer).toEqual([
        `${layer === 'lib/diagnostic-script' ? 'lib' : layer} must not import sim (../../sim/fleet.ts).`,
      ]);
    }
    expect(await problems('lib/use-cases/x.ts', "export const load = () => import('../../sim/fleet.ts');\n")).toEqual([
      'lib/use-cases must not import sim (../../sim/fleet.ts).',
    ]);
    expect(await problems('lib/x.ts', "export * from '../sim/sim-sources.ts';\n")).toEqual([
      'lib must not import sim (../sim/sim-sources.ts).',
    ]);
  });

  it('let the command, the functions and the tests import sim/', async () => {
    expect(
      await problems('cli/commands/x.ts', "import { buildSimFleet } from '../../sim/fleet.ts';\nexport const a = buildSimFleet;\n"),
    ).toEqual([]);
    expect(
      await problems('test/sim/x.ts', "import { buildSimFleet } from '../../sim/fleet.ts';\nexport const a = buildSimFleet;\n"),
    ).toEqual([]);
  });

  it('let sim/ build on lib/core, lib/ports, lib/adapters and lib/shared, but not on use cases, the command or the functions', async () => {
    for (const allowed of [
      '../lib/core/evidence-bundle.ts',
      '../lib/ports/fleet-runner.ts',
      '../lib/adapters/local-audit-store.ts',
      '../lib/shared/identifiers.ts',
      './fleet.ts',
    ]) {
      expect(await problems('sim/x.ts', `import * as m from '${allowed}';\nexport const a = m;\n`), allowed).toEqual([]);
    }
    expect(await problems('sim/x.ts', "import { runAudit } from '../lib/use-cases/run-audit.ts';\nexport const a = runAudit;\n")).toEqual([
      'sim must not import lib/use-cases (../lib/use-cases/run-audit.ts).',
    ]);
    expect(await problems('sim/x.ts', "import { run } from '../cli/commands/run.ts';\nexport const a = run;\n")).toEqual([
      'sim must not import cli (../cli/commands/run.ts).',
    ]);
    expect(await problems('sim/x.ts', "import * as h from '../functions/x.ts';\nexport const a = h;\n")).toEqual([
      'sim must not import functions (../functions/x.ts).',
    ]);
  });

  it('let the command and the functions reach the adapters only through the composition root', async () => {
    const root = "import { composeAwsSide } from '../lib/compose/aws-side.ts';\nexport const a = composeAwsSide;\n";
    expect(await problems('cli/x.ts', root)).toEqual([]);
    expect(await problems('functions/x.ts', root)).toEqual([]);
    expect(
      await problems(
        'cli/commands/x.ts',
        "import { LocalBundle } from '../../lib/adapters/local-audit-store.ts';\nexport const a = LocalBundle;\n",
      ),
    ).toEqual(['cli must not import lib/adapters (../../lib/adapters/local-audit-store.ts).']);
    expect(await problems('functions/shared/x.ts', "export const load = () => import('../../lib/adapters/kube-config.ts');\n")).toEqual([
      'functions must not import lib/adapters (../../lib/adapters/kube-config.ts).',
    ]);
    expect(
      await problems('lib/compose/x.ts', "import { S3AuditStore } from '../adapters/s3-audit-store.ts';\nexport const a = S3AuditStore;\n"),
    ).toEqual([]);
    expect(
      await problems('lib/compose/x.ts', "import { runAudit } from '../use-cases/run-audit.ts';\nexport const a = runAudit;\n"),
    ).toEqual([]);
  });

  it('keep the layers the composition root builds from importing it', async () => {
    const compose = "import { composeAwsSide } from '../compose/aws-side.ts';\nexport const a = composeAwsSide;\n";
    for (const layer of ['lib/core', 'lib/ports', 'lib/use-cases', 'lib/adapters', 'lib/http-api', 'lib/shared'])
      expect(await problems(`${layer}/x.ts`, compose), layer).toEqual([`${layer} must not import lib/compose (../compose/aws-side.ts).`]);
    expect(await problems('lib/compose/x.ts', "import { run } from '../../cli/commands/run.ts';\nexport const a = run;\n")).toEqual([
      'lib/compose must not import cli (../../cli/commands/run.ts).',
    ]);
  });

  it('see imports spelled as absolute paths or file: URLs, and leave packages alone', async () => {
    const root = new URL('../..', import.meta.url);
    const absolute = new URL('sim/fleet.ts', root).pathname;
    expect(await problems('lib/core/x.ts', `import { buildSimFleet } from '${absolute}';\nexport const a = buildSimFleet;\n`)).toEqual([
      `lib/core must not import sim (${absolute}).`,
    ]);
    const url = new URL('lib/adapters/local-audit-store.ts', root).href;
    expect(await problems('lib/use-cases/x.ts', `import { LocalBundle } from '${url}';\nexport const a = LocalBundle;\n`)).toEqual([
      `lib/use-cases must not import lib/adapters (${url}).`,
    ]);
    expect(await problems('lib/core/x.ts', "import { z } from 'zod';\nexport const a = z;\n")).toEqual([]);
  });
});
