import { Command, Flags } from '@oclif/core';
import { AGENTS } from '../../agents/index.js';

export default class Agents extends Command {
  static override description = 'List the resource agents ocfkit ships';
  static override flags = { json: Flags.boolean({ description: 'print JSON' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Agents);
    const rows = Object.values(AGENTS).map((a) => ({ name: a.name, version: a.version, shortdesc: a.shortdesc }));
    if (flags.json) {
      this.log(JSON.stringify(rows, null, 2));
      return;
    }
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) this.log(`${r.name.padEnd(w)}  ${r.version.padEnd(8)}  ${r.shortdesc}`);
  }
}
