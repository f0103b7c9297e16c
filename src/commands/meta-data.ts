import { Args, Command } from '@oclif/core';
import { AGENTS } from '../../agents/index.js';
import { fatal } from '../gen/fail.js';
import { renderMetaData } from '../ocf/metadata.js';

export default class MetaData extends Command {
  static override description = "Print an agent's OCF meta-data";
  static override args = { agent: Args.string({ required: true, description: 'agent name (ocf-gen agents lists them)' }) };

  async run(): Promise<void> {
    const { args } = await this.parse(MetaData);
    const decl = AGENTS[args.agent];
    if (!decl) fatal(this, `unknown agent '${args.agent}' (known: ${Object.keys(AGENTS).join(', ')})`, 2);
    process.stdout.write(renderMetaData(decl));
  }
}
