import { BadInputError } from '../shared/errors.ts';
/**
 * The SSM Command document that runs the diagnostic script (docs/design.md). It is generated from
 * the script at build time (scripts/build-ssm-document.ts → infra/ssm/fleet-audit-diagnostics.json),
 * never edited by hand, so the script is the single source of what runs on a VM.
 *
 * Shape: SSM document schema 2.2 ("Command document plugin reference", aws:runShellScript): one step,
 * `inputs.runCommand` a list of lines the agent writes to a script file joined by newlines, and
 * `inputs.timeoutSeconds` taken from a document parameter.
 */

/** SSM's quota on the size of a document's content ("Systems Manager service quotas": 64 KB). */
export const SSM_DOCUMENT_MAX_BYTES = 64 * 1024;

/** The script finishes in seconds; the timeout only bounds a VM whose tools hang. */
export const DEFAULT_EXECUTION_TIMEOUT_SECONDS = 300;

export interface SsmStringParameter {
  type: 'String';
  default: string;
  description: string;
  allowedPattern: string;
}

export interface SsmRunShellScriptStep {
  action: 'aws:runShellScript';
  name: string;
  precondition: { StringEquals: ['platformType', 'Linux'] };
  inputs: { timeoutSeconds: string; runCommand: string[] };
}

export interface SsmCommandDocument {
  schemaVersion: '2.2';
  description: string;
  parameters: { executionTimeout: SsmStringParameter };
  mainSteps: [SsmRunShellScriptStep];
}

/** The document cannot be built from this script. */
export class SsmDocumentError extends BadInputError {
  override name = 'SsmDocumentError';
}

/** Builds the SSM Command document running `script`; throws SsmDocumentError when SSM would refuse it. */
export function buildSsmCommandDocument(script: string, options: { defaultTimeoutSeconds?: number } = {}): SsmCommandDocument {
  const timeout = options.defaultTimeoutSeconds ?? DEFAULT_EXECUTION_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 3600) {
    throw new SsmDocumentError(`the default execution timeout must be 1..3600 seconds, not ${timeout}`);
  }
  // SSM substitutes `{{ name }}` in runCommand before the script runs: the script must not contain it.
  const braces = script.indexOf('{{');
  if (braces >= 0) {
    const line = script.slice(0, braces).split('\n').length;
    throw new SsmDocumentError(`the script contains "{{" on line ${line}, which SSM would read as a document parameter`);
  }
  const document: SsmCommandDocument = {
    schemaVersion: '2.2',
    description:
      'fleet-audit: read-only diagnostics of an Istio VM sidecar (output format v1, docs/diagnostic-output.md). Generated from lib/diagnostic-script/fleet-audit-diagnostics.sh.',
    parameters: {
      executionTimeout: {
        type: 'String',
        default: String(timeout),
        description: 'Seconds the script may run before SSM stops it (1 to 3600).',
        allowedPattern: '^([1-9][0-9]{0,2}|[1-2][0-9]{3}|3[0-5][0-9]{2}|3600)$',
      },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'fleetAuditDiagnostics',
        precondition: { StringEquals: ['platformType', 'Linux'] },
        // Split on "\n" only, keeping a trailing empty line, so the lines joined by "\n" are the file.
        inputs: { timeoutSeconds: '{{ executionTimeout }}', runCommand: script.split('\n') },
      },
    ],
  };
  const size = ssmDocumentSizeBytes(renderSsmCommandDocument(document));
  if (size > SSM_DOCUMENT_MAX_BYTES) {
    throw new SsmDocumentError(
      `the SSM document would be ${size} bytes, over SSM's limit of ${SSM_DOCUMENT_MAX_BYTES} bytes: shorten the diagnostic script`,
    );
  }
  return document;
}

/**
 * The document as the JSON text stored in infra/ssm and sent to SSM CreateDocument: indented, but the
 * script's lines one to a line without indentation. Indenting them would spend about a fifth of SSM's
 * 64 KB on spaces, room the script's comments need more.
 */
export function renderSsmCommandDocument(document: SsmCommandDocument): string {
  const PLACEHOLDER = '\u0000runCommand\u0000';
  const lines = document.mainSteps.map((step) => step.inputs.runCommand);
  const skeleton = {
    ...document,
    mainSteps: document.mainSteps.map((step) => ({ ...step, inputs: { ...step.inputs, runCommand: PLACEHOLDER } })),
  };
  let index = 0;
  const text = JSON.stringify(skeleton, null, 2).replaceAll(
    JSON.stringify(PLACEHOLDER),
    () => `[\n${lines[index++]!.map((line) => JSON.stringify(line)).join(',\n')}\n]`,
  );
  return `${text}\n`;
}

/** Size in bytes of a document's text, as SSM counts it (UTF-8). */
export function ssmDocumentSizeBytes(text: string): number {
  return new TextEncoder().encode(text).length;
}
