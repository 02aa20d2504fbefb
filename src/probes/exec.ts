import { Writable } from 'node:stream';
import { redact } from '../util/redact.ts';
import { TRANSIENT_TEXT } from './classify.ts';
import { checkText, describeText, type TextExpect, validateText } from './expect.ts';
import {
  clip,
  expectKeys,
  expectOf,
  optionalString,
  requireString,
  stringList,
  unknownKeys,
} from './params.ts';
import { notReady, type Outcome, type Probe, pass, wrong } from './types.ts';

const MAX_OUTPUT = 256 * 1024;

/**
 * `type: exec` — runs `command` in `pod` (optionally `container`) through the cluster, the way the
 * seed README's `kubectl exec` checks do. `expect`: `exitCode` (default 0) and `equals`/`matches`/
 * `contains` on stdout. Kube only: on target local it is skipped with the reason.
 */
export const execProbe: Probe = {
  type: 'exec',
  usesEndpoint: false,
  params: ['pod', 'container', 'command', 'expect'],
  validate: (check) => {
    const { exitCode, ...text } = expectOf(check);
    return [
      ...unknownKeys(check, execProbe.params),
      ...requireString(check, 'pod'),
      ...optionalString(check, 'container'),
      ...stringList(check, 'command', true),
      ...expectKeys(check, ['exitCode', 'equals', 'matches', 'contains']),
      ...(exitCode !== undefined && !(Number.isInteger(exitCode) && (exitCode as number) >= 0)
        ? [{ path: ['expect', 'exitCode'], message: 'must be a whole number' }]
        : []),
      ...validateText(text, ['expect']),
    ];
  },
  describe: (check) => {
    const { exitCode, ...text } = expectOf(check);
    const t = describeText(text as TextExpect);
    return `exec in ${check.pod}: exit ${exitCode ?? 0}${t ? `, stdout ${t}` : ''}`;
  },
  run: async (ctx): Promise<Outcome> => {
    if (!ctx.cluster) return wrong('exec checks need a cluster (target kube)');
    const { check } = ctx;
    const stdout = collector();
    const stderr = collector();
    const { exitCode } = await ctx.cluster.exec({
      namespace: ctx.namespace,
      pod: String(check.pod),
      container: typeof check.container === 'string' ? check.container : undefined,
      command: (check.command as (string | number)[]).map(String),
      stdout: stdout.stream,
      stderr: stderr.stream,
      timeoutMs: ctx.timeoutMs,
    });
    return judgeExec(expectOf(check), exitCode, stdout.text(), stderr.text());
  },
};

/** Pure decision over an exec's exit code and output. */
export function judgeExec(e: Record<string, unknown>, exitCode: number, out: string, err: string): Outcome {
  const { exitCode: wantCode = 0, ...text } = e;
  const shown = redact(
    clip(
      `exit ${exitCode}${out.trim() ? `: ${out.trim()}` : ''}${err.trim() ? ` (stderr: ${err.trim()})` : ''}`,
      300,
    ),
  );
  if (exitCode !== wantCode) {
    // the in-pod client could not reach its server yet: a not-ready answer, not a wrong one
    if (TRANSIENT_TEXT.test(err) || TRANSIENT_TEXT.test(out))
      return notReady(`exit ${exitCode}, expected ${wantCode}`, shown);
    return wrong(`expected exit code ${wantCode}, got ${exitCode}`, shown);
  }
  const why = checkText(out.replace(/\n$/, ''), text as TextExpect);
  return why ? wrong(`stdout ${why}`, shown) : pass(shown);
}

function collector() {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (size < MAX_OUTPUT) chunks.push(chunk);
      size += chunk.length;
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}
