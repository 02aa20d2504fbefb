import { EVENT_ID, type Event } from 'js-yaml';

/**
 * The text of each document of a multi-document YAML file on its own, padded with the newlines
 * before it so that every line number stays the file's: `yaml` can then parse only the document a
 * problem points at (positions are the slow part of reading YAML here; a file holds up to a dozen
 * objects). Undefined whenever the split is not certain (directives, a document after `...`, a
 * marker count that does not match js-yaml's documents): callers parse the whole file instead.
 */
export function documentRegions(text: string, events: readonly Event[]): string[] | undefined {
  if (/^%/m.test(text)) return undefined; // directives belong to the document after them
  const markers = [...text.matchAll(/^---(?=[ \t\r\n]|$)/gm)].map((m) => m.index);
  const docs = events.filter((e) => e.type === EVENT_ID.DOCUMENT);
  const starts: number[] = [];
  let next = 0; // the next `---` line not yet claimed by a document
  for (const [i, d] of docs.entries()) {
    if (d.explicitStart) {
      const at = markers[next++];
      if (at === undefined) return undefined;
      starts.push(at);
    } else if (i === 0) starts.push(0);
    else return undefined; // a bare document after `...`
  }
  if (next !== markers.length) return undefined;
  let line = 0; // newlines before `start`, counted once over the file
  let from = 0;
  return starts.map((start, i) => {
    for (let nl = text.indexOf('\n', from); nl !== -1 && nl < start; nl = text.indexOf('\n', nl + 1)) line++;
    from = start;
    return '\n'.repeat(line) + text.slice(start, starts[i + 1] ?? text.length);
  });
}
