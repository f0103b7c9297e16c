import { Args, Command } from '@oclif/core';
import { AGENTS } from '../../agents/index.js';
import { renderMetaData } from '../ocf/metadata.js';

export default class MetaData extends Command {
  static override description = "Print an agent's OCF meta-data";
  static override args = { agent: Args.string({ required: true, description: 'agent name (ocf-gen agents lists them)' }) };

  async run(): Promise<void> {
    const { args } = await this.parse(MetaData);
    const decl = AGENTS[args.agent];
    if (!decl) this.error(`unknown agent '${args.agent}' (known: ${Object.keys(AGENTS).join(', ')})`, { exit: 2 });
    process.stdout.write(renderMetaData(decl));
  }
}
