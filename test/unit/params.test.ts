import { describe, expect, it } from 'vitest';
import { OCF, OcfError } from '../../src/ocf/exit-codes.js';
import { param, parseParams } from '../../src/ocf/params.js';

const decls = {
  ip: param.string({ shortdesc: 'ip', longdesc: 'ip', required: true, check: (v) => (v.includes(' ') ? 'no spaces allowed' : undefined) }),
  count: param.integer({ shortdesc: 'n', longdesc: 'n', default: 5, min: 1, max: 10 }),
  bg: param.boolean({ shortdesc: 'b', longdesc: 'b', default: false }),
  mode: param.select(['auto', 'force', 'no'] as const, { shortdesc: 'm', longdesc: 'm', default: 'auto' }),
  label: param.string({ shortdesc: 'l', longdesc: 'l' }),
};

const parse = (env: Record<string, string>) => parseParams(decls, env);
const errorOf = (env: Record<string, string>): OcfError => {
  try {
    parse(env);
  } catch (e) {
    return e as OcfError;
  }
  throw new Error('expected a configuration error');
};

describe('parseParams', () => {
  it('applies defaults and types values', () => {
    expect(parse({ OCF_RESKEY_ip: '10.0.0.1' })).toEqual({ ip: '10.0.0.1', count: 5, bg: false, mode: 'auto', label: undefined });
    expect(parse({ OCF_RESKEY_ip: 'a', OCF_RESKEY_count: '7', OCF_RESKEY_bg: 'YES', OCF_RESKEY_mode: 'no', OCF_RESKEY_label: 'x' })).toEqual({
      ip: 'a', count: 7, bg: true, mode: 'no', label: 'x',
    });
  });
  it('treats an empty value as unset', () => {
    expect(parse({ OCF_RESKEY_ip: 'a', OCF_RESKEY_count: '' }).count).toBe(5);
  });
  it('reads OCF booleans the way ocf_is_true does, but rejects garbage', () => {
    for (const t of ['true', '1', 'on', 'yes']) expect(parse({ OCF_RESKEY_ip: 'a', OCF_RESKEY_bg: t }).bg).toBe(true);
    for (const f of ['false', '0', 'off', 'no']) expect(parse({ OCF_RESKEY_ip: 'a', OCF_RESKEY_bg: f }).bg).toBe(false);
    expect(errorOf({ OCF_RESKEY_ip: 'a', OCF_RESKEY_bg: 'maybe' }).reason).toBe(`parameter 'bg': not a boolean (true/false): "maybe"`);
  });
  it('reports configuration errors with code 6 and the parameter name', () => {
    const missing = errorOf({});
    expect(missing.code).toBe(OCF.ERR_CONFIGURED);
    expect(missing.reason).toBe("required parameter 'ip' is not set");
    expect(errorOf({ OCF_RESKEY_ip: 'a', OCF_RESKEY_count: '5x' }).reason).toBe(`parameter 'count': not an integer: "5x"`);
    expect(errorOf({ OCF_RESKEY_ip: 'a', OCF_RESKEY_count: '11' }).reason).toBe(`parameter 'count': must be at most 10: "11"`);
    expect(errorOf({ OCF_RESKEY_ip: 'a', OCF_RESKEY_mode: 'sometimes' }).reason).toBe(`parameter 'mode': must be one of: auto, force, no: "sometimes"`);
    expect(errorOf({ OCF_RESKEY_ip: 'a b' }).reason).toBe(`parameter 'ip': no spaces allowed: "a b"`);
  });
});
