import { Args, Command, Flags } from '@oclif/core';
import { readInput } from '../cib/input.js';
import { EXIT_CHECK, ExitWith, guarded, reportCheck, say } from '../cib/cli.js';
import { type Dialect } from '../cib/dialects.js';
import { formatIssue } from '../cib/errors.js';
import { dialectOfTree, parseTree, scanIds } from '../cib/read-xml.js';

export default class Validate extends Command {
  static override description =
    "Check a CIB XML file: ids unique, constraints naming existing resources, then crm_verify (Pacemaker CIBs) or xmllint against ocf-gen's schema of Heartbeat 2's crm.dtd (Heartbeat 2 CIBs, which Pacemaker cannot read)";

  static override examples = ['<%= config.bin %> validate cib.xml', '<%= config.bin %> validate old-cib.xml --dtd /usr/lib/heartbeat/crm.dtd'];

  static override args = { file: Args.string({ required: true, description: 'CIB XML file (- for stdin)' }) };

  static override flags = {
    dtd: Flags.string({ description: "for heartbeat-2 CIBs: check against Heartbeat's crm.dtd instead of ocf-gen's own schema of it" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Validate);
    const code = await guarded(() => {
      const xml = readInput(args.file);
      // Not well-formed (or a DTD, or too deep): bad input, exit 2 with file:line:column.
      const root = parseTree(xml, args.file);
      const family = dialectOfTree(root);
      const issues = scanIds(root, args.file);
      for (const i of issues) say(`error: ${formatIssue(i)}`);
      const dialect: Dialect = family === 'pacemaker' ? { family, major: 3, minor: 7, pinned: false } : { family };
      say(`${args.file}: ${family === 'heartbeat-2' ? 'Heartbeat 2 CIB' : `validate-with ${root.attrs['validate-with']}`}`);
      reportCheck(xml, dialect, flags.dtd);
      if (issues.length) throw new ExitWith(EXIT_CHECK);
      process.stdout.write(`${args.file}: valid\n`);
    });
    if (code) this.exit(code);
  }
}
