import { Args, Command } from '@oclif/core';
import { AGENTS } from '../../agents/index.js';
import { ExitWith, EXIT_INPUT, guarded, say } from '../cib/cli.js';
import { renderMetaData } from '../ocf/metadata.js';

export default class MetaData extends Command {
  static override description = "Print an agent's OCF meta-data";
  static override args = { agent: Args.string({ required: true, description: 'agent name (ocf-gen agents lists them)' }) };

  async run(): Promise<void> {
    const { args } = await this.parse(MetaData);
    const code = await guarded(() => {
      const decl = AGENTS[args.agent];
      if (!decl) {
        say(`unknown agent '${args.agent}' (known: ${Object.keys(AGENTS).join(', ')})`);
        throw new ExitWith(EXIT_INPUT);
      }
      process.stdout.write(renderMetaData(decl));
    });
    if (code) this.exit(code);
  }
}
