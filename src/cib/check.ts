// Which real tool checks a CIB of a given dialect.

import type { Dialect } from './dialects.js';
import { crmVerify, findHeartbeatDtd, type Verdict, xmllintDtd } from './verify.js';

export function checkWithTools(xml: string, dialect: Dialect, dtd?: string): Verdict {
  if (dialect.family !== 'heartbeat-2') return crmVerify(xml);
  const path = dtd ?? findHeartbeatDtd();
  if (!path) {
    return {
      tool: 'xmllint',
      ran: false,
      ok: false,
      output: "Heartbeat 2's crm.dtd was not found (give it with --dtd; Pacemaker 2 and later cannot read heartbeat-2 CIBs, so crm_verify cannot check them)",
    };
  }
  return xmllintDtd(xml, path);
}
