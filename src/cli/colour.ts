/**
 * Whether to colour a stream: a terminal, and NO_COLOR absent or empty (no-color.org: software that
 * colours by default stops when NO_COLOR is set to a non-empty value, whatever the value).
 */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

const paint = (code: number, s: string) => `\u001b[${code}m${s}\u001b[0m`;

/** Colours validate's `file:line: error:` / `warning:` lines (pure). */
export function paintProblems(text: string, colour: boolean): string {
  if (!colour) return text;
  return text
    .split('\n')
    .map((l) =>
      /: error: /.test(l)
        ? paint(31, l)
        : /: warning: /.test(l)
          ? paint(33, l)
          : /^validate \(/.test(l)
            ? paint(1, l)
            : l,
    )
    .join('\n');
}
