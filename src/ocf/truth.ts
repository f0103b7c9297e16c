/**
 * OCF truth values: exactly the spellings resource-agents' `ocf_is_true`
 * accepts (its `case` is case-sensitive, so "Yes" and "y" are not true there
 * and not here). Pacemaker's own `crm_is_true` set is src/cib's business.
 */
const OCF_TRUE = new Set(['yes', 'true', '1', 'YES', 'TRUE', 'True', 'ja', 'on', 'ON']);

/** The same spellings' opposites: a value that is neither is refused where garbage must not read as "false". */
const OCF_FALSE = new Set(['no', 'false', '0', 'NO', 'FALSE', 'False', 'nein', 'off', 'OFF']);

/** `ocf_is_true`: true for its spellings, false for anything else (unset included). */
export const ocfIsTrue = (v: string | undefined): boolean => v !== undefined && OCF_TRUE.has(v);

/** A spelling of "false" (the counterpart of ocfIsTrue's set). */
export const ocfIsFalse = (v: string | undefined): boolean => v !== undefined && OCF_FALSE.has(v);

/** true / false for a truth spelling, undefined for anything else. */
export const ocfBoolean = (v: string | undefined): boolean | undefined => (ocfIsTrue(v) ? true : ocfIsFalse(v) ? false : undefined);
