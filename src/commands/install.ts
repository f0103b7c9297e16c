import { Command, Flags } from '@oclif/core';
import { AGENTS } from '../../agents/index.js';
import { applyInstall, InstallError, planInstall } from '../package/install.js';
import { ExitWith, guarded, printJson, say } from '../cib/cli.js';
import { builtAgentsExecutable } from '../package/paths.js';

export default class Install extends Command {
  static override description = 'Install the built agents as <prefix>/resource.d/<provider>/<Agent> (ocf:<provider>:<Agent>)';
  static override flags = {
    prefix: Flags.string({ description: 'OCF root', default: '/usr/lib/ocf' }),
    provider: Flags.string({ description: 'OCF provider name', default: 'ocfkit' }),
    'dry-run': Flags.boolean({ description: 'show what would be done, change nothing' }),
    force: Flags.boolean({ description: 'replace agent files that ocfkit did not install' }),
    json: Flags.boolean({ description: 'print the steps as JSON on stdout ({steps, applied}; problems as {errors})' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Install);
    const plan = { prefix: flags.prefix, provider: flags.provider, source: builtAgentsExecutable(), agents: Object.keys(AGENTS), force: flags.force };
    const code = await guarded(() => {
      try {
        const steps = planInstall(plan);
        if (!flags.json) for (const s of steps) this.log(`${flags['dry-run'] ? 'would ' : ''}${s.action}: ${s.path}${s.target ? ` -> ${s.target}` : ''}`);
        if (!flags['dry-run']) applyInstall(plan, steps);
        if (flags.json) printJson({ steps: steps.map((s) => ({ action: s.action, path: s.path, target: s.target ?? null })), applied: !flags['dry-run'] });
      } catch (e) {
        // Every failure, not only bad input, is one line naming what failed (an InstallError says which exit code).
        const message = e instanceof InstallError ? e.message : `install failed: ${(e as Error).message}`;
        if (flags.json) printJson({ errors: [{ place: flags.prefix, message }] });
        say(message);
        throw new ExitWith(e instanceof InstallError ? e.exitCode : 1);
      }
    });
    if (code) this.exit(code);
  }
}
