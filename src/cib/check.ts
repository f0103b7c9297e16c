// Which real tool checks a CIB of a given dialect.

import type { Dialect } from './dialects.js';
import { crmVerify, heartbeatSchema, type Verdict, xmllintSchema } from './verify.js';

export function checkWithTools(xml: string, dialect: Dialect, dtd?: string): Verdict {
  if (dialect.family !== 'heartbeat-2') return crmVerify(xml);
  // Pacemaker 2 and later cannot read heartbeat-2 CIBs, so crm_verify cannot check them: a schema does.
  const path = dtd ?? heartbeatSchema();
  if (!path) {
    return { tool: 'xmllint', ran: false, ok: false, output: "ocf-gen's schemas/heartbeat-2-cib.rng is missing from this installation (give Heartbeat's crm.dtd with --dtd)" };
  }
  return xmllintSchema(xml, path);
}
