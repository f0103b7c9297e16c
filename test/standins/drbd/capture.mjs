// Reads the capture files test/qemu/drbd.test.ts writes to test/fixtures/drbd84/ (real DRBD in the QEMU
// guests): "# …" header lines (source, state, command, exit status, stderr indented by "#   "), then
// "# ---- stdout follows, byte for byte ----" and the command's stdout.
const MARK = '# ---- stdout follows, byte for byte ----\n';

/** @returns {{ stdout: string, stderr: string, exit: number, state?: string, command?: string } | undefined} */
export function parseCapture(text) {
  const i = text.indexOf(MARK);
  if (i < 0) return undefined;
  const header = text.slice(0, i).split('\n');
  const field = (name) => header.find((l) => l.startsWith(`# ${name}:`))?.slice(name.length + 3).trim();
  const stderrAt = header.findIndex((l) => l.startsWith('# stderr:'));
  let stderr = '';
  if (stderrAt >= 0 && field('stderr') !== '(empty)') {
    const lines = [];
    for (const l of header.slice(stderrAt + 1)) {
      if (!l.startsWith('#   ')) break;
      lines.push(l.slice(4));
    }
    stderr = lines.length ? `${lines.join('\n')}\n` : '';
  }
  return { stdout: text.slice(i + MARK.length), stderr, exit: Number(field('exit status') ?? 0), state: field('state'), command: field('command') };
}
