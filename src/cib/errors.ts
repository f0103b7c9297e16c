// Problems with the input (spec, template, haresources, CIB XML): each names
// the exact place, e.g. `resources.ip.params.ip: not an IPv4/IPv6 address`.

export interface Issue {
  /** Where: a spec path (`resources.ip.params.ip`), `file:line`, or an XML element. Empty for the whole input. */
  path: string;
  message: string;
}

export class CibError extends Error {
  constructor(readonly issues: Issue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

export const formatIssue = (i: Issue) => (i.path ? `${i.path}: ${i.message}` : i.message);

/** Collects issues, then throws them all at once: one run shows every mistake. */
export class Problems {
  readonly issues: Issue[] = [];
  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }
  get empty(): boolean {
    return this.issues.length === 0;
  }
  throwIfAny(): void {
    if (this.issues.length) throw new CibError(this.issues);
  }
}

/** Things the user should know that do not stop the output (printed on stderr). */
export type Notes = string[];

/** Spec paths: `resources.ip.params.ip`, `constraints.order[0].first`; odd keys are quoted. */
export function joinPath(parts: ReadonlyArray<string | number>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}
