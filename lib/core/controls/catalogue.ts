import { collect01 } from './collection.ts';
import type { Control } from './control.ts';
import { health01, health03 } from './health.ts';
import { reg01, reg02 } from './registration.ts';
import { xds01 } from './xds.ts';

/** Every control the audit evaluates, in report order. */
export const CONTROLS: readonly Control[] = [collect01, health01, health03, xds01, reg01, reg02];
