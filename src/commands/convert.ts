import { Command, Flags } from '@oclif/core';
import { readInput } from '../cib/input.js';
import { cibFileArg, guarded, outputFlag } from '../cib/cli.js';
import { deliverCib } from '../cib/check-tools.js';
import { DIALECT_HELP } from '../cib/dialects.js';
import { dialectOrThrow, writeCib } from '../cib/generate.js';
import { readCibXml } from '../cib/read-xml.js';
import { NO_FENCING } from '../cib/build.js';
import { getNv, isTrue } from '../cib/model.js';

export default class Convert extends Command {
  static override description =
    'Convert an existing CIB (Heartbeat 2, Pacemaker 1.x or 2/3) to another schema dialect, keeping ids, attributes, operations and constraints. Pacemaker 2.0 and later cannot load Heartbeat 2 CIBs: this is how such clusters move.';

  static override examples = ['<%= config.bin %> convert /var/lib/heartbeat/crm/cib.xml --to pacemaker-3 --output cib.xml', '<%= config.bin %> convert cib.xml --to heartbeat-2'];

  static override args = { file: cibFileArg() };

  static override flags = {
    to: Flags.string({ description: `target dialect: ${DIALECT_HELP}`, default: 'pacemaker-3' }),
    output: outputFlag(),
    epoch: Flags.integer({ description: "epoch of the result (default: the input's)", min: 0 }),
    'admin-epoch': Flags.integer({ description: "admin_epoch of the result (default: the input's)", min: 0 }),
    check: Flags.boolean({ description: 'check the result with crm_verify (xmllint and the DTD for heartbeat-2) before writing it' }),
    json: Flags.boolean({ description: 'print JSON on stdout: {cib, notes, check}; problems as {errors}' }),
    dtd: Flags.string({ description: "with --check and --to heartbeat-2: check against Heartbeat's crm.dtd instead of ocf-gen's own schema of it" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Convert);
    const code = await guarded(() => {
      const dialect = dialectOrThrow(flags.to, '--to');
      const xml = readInput(args.file);
      const { cib, source, notes } = readCibXml(xml, args.file);
      // Pacemaker (corosync) node ids are numbers; Heartbeat's were UUIDs or names.
      if (dialect.family !== 'heartbeat-2' && cib.nodes.some((n) => n.id !== undefined && !/^\d+$/.test(n.id))) {
        notes.push(`note: node ids ${cib.nodes.map((n) => n.id).join(', ')} are not corosync node ids: the nodes are numbered 1… in the order listed; match corosync.conf's nodelist`);
        for (const n of cib.nodes) delete n.id;
      }
      if (flags.epoch !== undefined) cib.epoch = flags.epoch;
      if (flags['admin-epoch'] !== undefined) cib.adminEpoch = flags['admin-epoch'];
      cib.comment = [`Converted by ocf-gen from ${args.file === '-' ? 'standard input' : args.file.split('/').pop()} (${source}).`];
      if (!isTrue(getNv(cib.properties, 'stonith-enabled') ?? 'true')) {
        cib.comment.push(`WARNING: ${NO_FENCING}`);
        notes.push(`warning: ${NO_FENCING}`);
      }
      const out = writeCib(cib, dialect);
      deliverCib(out, dialect, notes, flags);
    }, flags.json);
    if (code) this.exit(code);
  }
}
