/**
 * Input validation of every action's bundle, driven by its action.yml: a missing required input,
 * or a value outside an input's choices, fails the step (exit 1) with a message naming the input.
 */
import { describe, expect, it } from 'vitest';
import { actionSpec, errors, hasBundle, missingBundle, runAction } from './run-action.ts';

/** Plausible values for inputs that may be required, so only the omitted one is missing. */
const VALID: Record<string, string> = {
  store: 's3://backups/entry',
  's3-endpoint': 'http://127.0.0.1:9',
  'access-key-id': 'key',
  'secret-access-key': 'secret',
  kubeconfig: '/nonexistent/kubeconfig',
  target: 'local',
  cluster: 'existing',
  profile: 'minimal',
  components: 'postgres',
};

/** An out-of-range value for each input that is a choice. */
const BAD_CHOICE: Record<string, Record<string, string>> = {
  deploy: { cluster: 'minikube' },
  verify: { target: 'cloud' },
  backup: { target: 'cloud' },
};

for (const action of ['deploy', 'verify', 'backup']) {
  if (!hasBundle(action)) {
    missingBundle(action);
    continue;
  }
  describe(`actions/${action} inputs (bundle run as GitHub runs it)`, () => {
    const spec = actionSpec(action);
    const required = Object.entries(spec.inputs)
      .filter(
        ([, s]) =>
          (s.required === true || s.required === 'true') && (s.default === undefined || s.default === ''),
      )
      .map(([n]) => n);

    it.each(required.map((n) => [n]))('a missing required input "%s" fails naming it', async (name) => {
      const given = Object.fromEntries(required.filter((n) => n !== name).map((n) => [n, VALID[n] ?? 'x']));
      const r = await runAction(action, { ...given, [name]: '' });
      expect(r.code).toBe(1);
      expect(errors(r)).toContain(name);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // no stack trace
    });

    it.each(Object.entries(BAD_CHOICE[action] ?? {}))(
      'input "%s" outside its choices fails naming it',
      async (name, value) => {
        expect(Object.keys(spec.inputs)).toContain(name);
        const given = Object.fromEntries(required.map((n) => [n, VALID[n] ?? 'x']));
        const r = await runAction(action, { ...given, [name]: value });
        expect(r.code).toBe(1);
        expect(errors(r)).toContain(name);
        expect(errors(r)).toContain(value);
      },
    );

    it('declares its outputs and runs on node24 from dist/', () => {
      expect(spec.runs.using).toBe('node24');
      expect(spec.runs.main).toMatch(/^dist\/.+\.js$/);
      expect(Object.keys(spec.outputs).length).toBeGreaterThan(0);
    });
  });
}
