import { Command, Flags } from '@oclif/core';
import { readInput } from '../cib/input.js';
import { cibFileArg, EXIT_CHECK, ExitWith, guarded, printJson, say } from '../cib/cli.js';
import { printCheck, runCheck } from '../cib/check-tools.js';
import { type Dialect } from '../cib/dialects.js';
import { formatIssue } from '../cib/errors.js';
import { dialectOfTree, parseTree } from '../cib/read-xml.js';
import { scanIds } from '../cib/check-xml.js';

export default class Validate extends Command {
  static override description =
    "Check a CIB XML file: ids unique, constraints naming existing resources, then crm_verify (Pacemaker CIBs) or xmllint against ocf-gen's schema of Heartbeat 2's crm.dtd (Heartbeat 2 CIBs, which Pacemaker cannot read)";

  static override examples = ['<%= config.bin %> validate cib.xml', '<%= config.bin %> validate old-cib.xml --dtd /usr/lib/heartbeat/crm.dtd'];

  static override args = { file: cibFileArg() };

  static override flags = {
    dtd: Flags.string({ description: "for heartbeat-2 CIBs: check against Heartbeat's crm.dtd instead of ocf-gen's own schema of it" }),
    json: Flags.boolean({ description: 'print the findings as JSON on stdout (nothing on stderr); the exit code as without' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Validate);
    const code = await guarded(() => {
      const xml = readInput(args.file);
      // Not well-formed (or a DTD, or too deep): bad input, exit 2 with file:line:column.
      const root = parseTree(xml, args.file);
      const family = dialectOfTree(root);
      const issues = scanIds(root, args.file);
      const dialect: Dialect = family === 'pacemaker' ? { family, major: 3, minor: 7, pinned: false } : { family };
      const dangling = new Set(issues.map((i) => /="([^"]*)" is not a resource here$/.exec(i.message)?.[1]).filter((x): x is string => x !== undefined));
      const check = runCheck(xml, dialect, flags.dtd, dangling);
      const valid = issues.length === 0 && (check.ok || !check.ran);
      if (flags.json) {
        const report = {
          file: args.file,
          dialect: family,
          validateWith: root.attrs['validate-with'] ?? null,
          valid,
          problems: issues.map((i) => ({ place: i.path, message: i.message })),
          check: { tool: check.tool, ran: check.ran, ok: check.ok, output: check.lines },
          fencing: !check.fencingOff,
        };
        printJson(report);
        if (!valid) throw new ExitWith(EXIT_CHECK);
        return;
      }
      for (const i of issues) say(`error: ${formatIssue(i)}`);
      say(`${args.file}: ${family === 'heartbeat-2' ? 'Heartbeat 2 CIB' : `validate-with ${root.attrs['validate-with']}`}`);
      printCheck(check);
      if (issues.length) throw new ExitWith(EXIT_CHECK);
      process.stdout.write(`${args.file}: valid\n`);
    }, flags.json);
    if (code) this.exit(code);
  }
}
