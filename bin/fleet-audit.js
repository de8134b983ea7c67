#!/usr/bin/env node
// The command's entry point. It is kept to syntax every Node.js runs, so that an older Node stops here
// with one line instead of a stack trace from the code it cannot load.
import { existsSync } from 'node:fs';

const SUPPORTED = 22;
const major = Number(process.versions.node.split('.')[0]);
if (major < SUPPORTED) {
  process.stderr.write(`fleet-audit needs Node.js ${SUPPORTED} or newer; this is Node.js ${process.versions.node}.\n`);
  process.exit(2);
}

// A source checkout runs the TypeScript sources (Node 24 strips their types); the npm package has
// only the built JavaScript in dist/.
const source = new URL('../cli/fleet-audit.ts', import.meta.url);
await import(existsSync(source) ? source.href : new URL('../dist/fleet-audit.js', import.meta.url).href);
