/**
 * mount(8) `-o` option strings: comma-separated, where a value may be double
 * quoted and then hold commas (SELinux `context="system_u:object_r:x:s0:c1,c2"`).
 */

/** The options one by one; quotes are kept, as mount(8) wants them. */
export function splitOptions(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return s === '' ? [] : out;
}

/** What is wrong with an option string, or undefined when mount(8) can take it as one `-o` argument. */
export function optionsProblem(s: string): string | undefined {
  if ((s.match(/"/g) ?? []).length % 2 !== 0) return 'unbalanced double quote';
  for (const opt of splitOptions(s)) {
    if (opt === '') return 'empty option (stray comma)';
    if (/\s/.test(opt.replace(/"[^"]*"/g, ''))) return `blank in "${opt}": options are comma-separated, without spaces`;
    if (opt.startsWith('-')) return `"${opt}" looks like a command line flag, not a mount option`;
  }
  return undefined;
}

/** The option's name without a value: "ro", "context" for context="…". */
export const optionName = (opt: string) => opt.split('=')[0]!;

export const hasOption = (options: string[], name: string) => options.some((o) => optionName(o) === name);
