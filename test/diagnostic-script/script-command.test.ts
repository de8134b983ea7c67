import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.ts';
import type { CliIo } from '../../cli/context.ts';
import { SCRIPT_PATH } from './fake-vm.ts';

describe('fleet-audit script', () => {
  it('prints the diagnostic script exactly as the file holds it, and nothing else', async () => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      readStdin: () => Promise.reject(new Error('the script command reads no stdin')),
      clock: () => new Date('2026-11-26T06:00:00Z'),
    };
    const code = await runCli(['script'], io);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toBe(readFileSync(SCRIPT_PATH, 'utf8'));
    expect(stdout.startsWith('#!/bin/sh\n')).toBe(true);
  });
});
