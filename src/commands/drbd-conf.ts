import { Command, Flags } from '@oclif/core';
import { emit, guarded, outputFlag, printJson } from '../cib/cli.js';
import { DRBD_SETTINGS, DRBD_VERSIONS, type DrbdVersion, formatDrbdSettings, renderDrbdConf } from '../cib/drbd-conf.js';

export default class DrbdConf extends Command {
  static override description =
    "Write the DRBD resource file for the ha-nfs CIB, with DRBD's fencing policy (resource-and-stonith) and the crm-fence-peer/crm-unfence-peer handlers";

  static override examples = [
    '<%= config.bin %> drbd-conf --set node1=alice --set node2=bob --set address1=10.0.1.1 --set address2=10.0.1.2 --set disk=/dev/sdb > /etc/drbd.d/r0.res',
    '<%= config.bin %> drbd-conf --drbd-version 8.4 --output /etc/drbd.d/r0.res',
    '<%= config.bin %> drbd-conf --list-settings',
  ];

  static override flags = {
    set: Flags.string({ description: 'setting name=value (repeatable; names as in the ha-nfs template: node1, node2, drbd_resource, device…)', multiple: true }),
    'drbd-version': Flags.string({ description: 'DRBD version of the nodes: 9 puts fencing in net {}, 8.4 in disk {}', options: [...DRBD_VERSIONS], default: '9' }),
    output: outputFlag(),
    'list-settings': Flags.boolean({ description: 'list the settings with their defaults, and exit' }),
    json: Flags.boolean({ description: 'print JSON on stdout: the settings (with --list-settings), or {config}; problems as {errors}' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DrbdConf);
    const code = await guarded(() => {
      if (flags['list-settings']) {
        if (flags.json) printJson({ settings: Object.entries(DRBD_SETTINGS).map(([name, s]) => ({ name, default: s.default, description: s.description })) });
        else process.stdout.write(formatDrbdSettings());
        return;
      }
      const config = renderDrbdConf(flags.set ?? [], flags['drbd-version'] as DrbdVersion);
      if (flags.json) printJson({ config: flags.output === undefined ? config : null, output: flags.output ?? null });
      if (!flags.json || flags.output !== undefined) emit(config, flags.output);
    }, flags.json);
    if (code) this.exit(code);
  }
}
