import { describe, expect, it } from 'vitest';
import { InstallError, planInstall } from '../../src/package/install.js';

describe('install plan', () => {
  it('says nothing is built when the executable is missing', () => {
    let err: unknown;
    try {
      planInstall({ prefix: '/tmp/x', provider: 'ocfkit', source: '/nonexistent/build/ocfkit-agents', agents: ['IPaddr2'], force: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InstallError);
    expect((err as InstallError).message).toBe('nothing is built: /nonexistent/build/ocfkit-agents is missing (run `npm run build` first)');
  });
  it('rejects provider names that are not a plain directory name', () => {
    expect(() => planInstall({ prefix: '/tmp/x', provider: '../etc', source: process.execPath, agents: [], force: false })).toThrow('invalid provider name: "../etc"');
  });
});
