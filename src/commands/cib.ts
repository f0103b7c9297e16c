import { Command, Flags } from '@oclif/core';
import { guarded, outputFlag, printJson } from '../cib/cli.js';
import { deliverCib } from '../cib/check-tools.js';
import { DIALECT_HELP } from '../cib/dialects.js';
import { CibError } from '../cib/errors.js';
import { generate } from '../cib/generate.js';
import { DEFAULT_TEMPLATE, isTemplate, listTemplates, loadTemplate, parseTemplate, readStructured, type Template } from '../cib/spec-load.js';

export default class Cib extends Command {
  static override description = `Write the cluster information base (CIB) XML: the ${DEFAULT_TEMPLATE} template by default, a spec file, or a Heartbeat v1 haresources file`;

  static override examples = [
    '<%= config.bin %> cib > cib.xml',
    '<%= config.bin %> cib --set node1=alice --set node2=bob --set ip=10.0.0.50 --set cidr_netmask=24',
    '<%= config.bin %> cib --list-settings',
    '<%= config.bin %> cib --spec cluster.yaml --schema pacemaker-1.0 --output cib.xml',
    '<%= config.bin %> cib --from-haresources /etc/ha.d/haresources --ha-cf /etc/ha.d/ha.cf',
    '<%= config.bin %> cib --check',
  ];

  static override flags = {
    template: Flags.string({ description: `template from cib-templates/ (default ${DEFAULT_TEMPLATE})` }),
    spec: Flags.string({ description: 'cluster spec file, YAML or JSON (- for stdin)' }),
    'from-haresources': Flags.string({ description: 'convert a Heartbeat v1 haresources file' }),
    'ha-cf': Flags.string({ description: "Heartbeat's ha.cf for --from-haresources (default: ha.cf next to haresources)" }),
    'skip-unmapped': Flags.boolean({ description: 'with --from-haresources: leave out what cannot be converted (with a warning) instead of failing' }),
    set: Flags.string({ description: 'template setting name=value, or a spec path: resources.ip.params.ip=10.0.0.5 (repeatable)', multiple: true }),
    schema: Flags.string({ description: `schema dialect: ${DIALECT_HELP}`, default: 'pacemaker-3' }),
    output: outputFlag(),
    epoch: Flags.integer({ description: 'epoch of the CIB (cibadmin --replace needs it above the live one)', min: 0 }),
    'admin-epoch': Flags.integer({ description: 'admin_epoch of the CIB', min: 0 }),
    check: Flags.boolean({
      description: "check the result with crm_verify (xmllint and ocf-gen's schema for heartbeat-2) before writing it, and every agent's parameters (required, unknown, unique) against its meta-data from crm_resource --show-metadata",
    }),
    'metadata-dir': Flags.string({ description: 'meta-data files of the agents (<class>:<provider>:<type>.xml or <type>.xml), for the parameter checks (with or without --check)' }),
    dtd: Flags.string({ description: "with --check and --schema heartbeat-2: check against Heartbeat's crm.dtd instead of ocf-gen's own schema of it" }),
    'list-settings': Flags.boolean({ description: "list the template's settings (for --set) with their defaults, and exit" }),
    json: Flags.boolean({ description: 'print JSON on stdout: the settings (with --list-settings), or {cib, notes, check}; problems as {errors}' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Cib);
    const code = await guarded(() => {
      if (flags['list-settings']) {
        let tpl: Template;
        if (flags.spec !== undefined) {
          const raw = readStructured(flags.spec);
          if (!isTemplate(raw)) throw new CibError([{ path: flags.spec, message: 'is a spec, not a template: it has no settings' }]);
          tpl = parseTemplate(raw, flags.spec);
        } else tpl = loadTemplate(flags.template ?? DEFAULT_TEMPLATE);
        if (flags.json) printJson({ template: tpl.template, description: tpl.description ?? null, settings: Object.entries(tpl.settings).map(([name, s]) => ({ name, default: String(s.default), description: s.description })) });
        else process.stdout.write(formatSettings(tpl));
        return;
      }
      const g = generate({
        template: flags.template,
        spec: flags.spec,
        haresources: flags['from-haresources'],
        haCf: flags['ha-cf'],
        skipUnmapped: flags['skip-unmapped'],
        sets: flags.set,
        schema: flags.schema,
        epoch: flags.epoch,
        adminEpoch: flags['admin-epoch'],
        ...(flags.check || flags['metadata-dir'] !== undefined ? { agentMetadata: { ...(flags['metadata-dir'] !== undefined ? { dir: flags['metadata-dir'] } : {}), crmResource: flags.check } } : {}),
      });
      deliverCib(g.xml, g.dialect, g.notes, flags);
    }, flags.json);
    if (code) this.exit(code);
  }
}

function formatSettings(tpl: Template): string {
  const rows = Object.entries(tpl.settings).map(([k, s]) => [k, String(s.default) === '' ? '(empty)' : String(s.default), s.description]);
  const w0 = Math.max(...rows.map((r) => r[0]!.length), 7);
  const w1 = Math.max(...rows.map((r) => r[1]!.length), 7);
  const lines = [`template ${tpl.template}${tpl.description ? `: ${tpl.description}` : ''}`, '', `${'setting'.padEnd(w0)}  ${'default'.padEnd(w1)}  meaning`];
  for (const [k, d, m] of rows) lines.push(`${k!.padEnd(w0)}  ${d!.padEnd(w1)}  ${m}`);
  lines.push('', `templates: ${listTemplates().join(', ')}`);
  return `${lines.join('\n')}\n`;
}
