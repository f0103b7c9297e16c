import { Command, Flags } from '@oclif/core';
import { AGENTS } from '../../agents/index.js';
import { applyInstall, InstallError, planInstall } from '../gen/install.js';
import { fatal } from '../gen/fail.js';
import { builtAgentsExecutable } from '../gen/paths.js';

export default class Install extends Command {
  static override description = 'Install the built agents as <prefix>/resource.d/<provider>/<Agent> (ocf:<provider>:<Agent>)';
  static override flags = {
    prefix: Flags.string({ description: 'OCF root', default: '/usr/lib/ocf' }),
    provider: Flags.string({ description: 'OCF provider name', default: 'ocfkit' }),
    'dry-run': Flags.boolean({ description: 'show what would be done, change nothing' }),
    force: Flags.boolean({ description: 'replace agent files that ocfkit did not install' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Install);
    const plan = { prefix: flags.prefix, provider: flags.provider, source: builtAgentsExecutable(), agents: Object.keys(AGENTS), force: flags.force };
    try {
      const steps = planInstall(plan);
      for (const s of steps) this.log(`${flags['dry-run'] ? 'would ' : ''}${s.action}: ${s.path}${s.target ? ` -> ${s.target}` : ''}`);
      if (!flags['dry-run']) applyInstall(plan, steps);
    } catch (e) {
      if (e instanceof InstallError) fatal(this, e.message, e.exitCode);
      const err = e as NodeJS.ErrnoException;
      fatal(this, `install failed: ${err.message}`, 1);
    }
  }
}
