import { cert01, cert02, cert03, cert04, cert05, cert06 } from './certificates.ts';
import { collect01, collect02, collect03 } from './collection.ts';
import { cfg01 } from './configuration.ts';
import { cfg02 } from './control-plane-pin.ts';
import type { Control } from './control.ts';
import { fleet01 } from './fleet.ts';
import { health01, health02, health03, health04, health05 } from './health.ts';
import { logs01, logs02 } from './logs.ts';
import { net01, net02, net03, net04, net05 } from './network.ts';
import { xds06 } from './outbound-endpoints.ts';
import { net06 } from './prerouting-order.ts';
import { reg07 } from './registered-address.ts';
import { reg08 } from './service-selection.ts';
import { reg01, reg02, reg03, reg04, reg05, reg06 } from './registration.ts';
import { xds01, xds02, xds03, xds04, xds05 } from './xds.ts';

/** Every control the audit evaluates, in the catalogue's order (docs/controls.md). */
export const CONTROLS: readonly Control[] = [
  collect01,
  collect02,
  collect03,
  health01,
  health02,
  health03,
  health04,
  health05,
  logs01,
  logs02,
  net01,
  net02,
  net03,
  net04,
  net05,
  net06,
  xds01,
  xds02,
  xds03,
  xds04,
  xds05,
  xds06,
  cfg01,
  cfg02,
  reg01,
  reg02,
  reg03,
  reg04,
  reg05,
  reg06,
  reg07,
  reg08,
  cert01,
  cert02,
  cert03,
  cert04,
  cert05,
  cert06,
  fleet01,
];
