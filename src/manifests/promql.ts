import { parser } from '@prometheus-io/lezer-promql';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, Scalar } from 'yaml';
import type { Problem } from '../util/problem.ts';
import { text } from './findings.ts';
import type { Locator } from './locate.ts';
import { isRecord } from './objects.ts';
import type { KubeObject } from './render.ts';

/**
 * Prometheus rule files and Alertmanager routing, checked together (pure):
 * - every rule expression parses with Prometheus' own PromQL grammar (@prometheus-io/lezer-promql),
 *   reported at the line of the rule file inside its ConfigMap;
 * - every alert carries the labels Alertmanager groups by (`route.group_by`), from the rule's labels,
 *   Prometheus' `external_labels` or the labels its expression keeps;
 * - labels the routes and inhibitions match on (severity) are set, with a value some matcher takes;
 * - every receiver a route names exists;
 * - every panel query of a Grafana dashboard (`*.json` keys) parses.
 * Files are recognised by their shape (Prometheus' and Alertmanager's documented formats), not by name.
 */

export interface SyntaxError {
  /** Offset in the expression. */
  at: number;
  message: string;
}

/** Syntax errors of a PromQL expression; [] when it parses. */
export function promqlErrors(expr: string): SyntaxError[] {
  const out: SyntaxError[] = [];
  parser.parse(expr).iterate({
    enter: (n) => {
      if (!n.type.isError || out.length) return;
      const near = expr
        .slice(n.from, Math.max(n.to, n.from + 12))
        .split('\n')[0]!
        .trim();
      out.push({
        at: n.from,
        message: n.from >= expr.trimEnd().length ? 'the expression ends too early' : `unexpected "${near}"`,
      });
    },
  });
  return out;
}

/**
 * Which labels an expression's result keeps (pure). `all` = the input series' labels minus
 * `except`; `only` = exactly these. Semantics of prometheus/prometheus `promql/engine.go`:
 * aggregations keep their `by` labels (all but the `without` ones), one-to-one binary matching
 * with `on(...)` keeps only those labels (`resultMetric`), `absent()` keeps its equality matchers.
 */
export type LabelSet = { kind: 'all'; except: Set<string> } | { kind: 'only'; labels: Set<string> };

const ALL: LabelSet = { kind: 'all', except: new Set() };
const NONE: LabelSet = { kind: 'only', labels: new Set() };
const NO_LABEL_FUNCTIONS = new Set(['Vector', 'Time', 'Scalar', 'Pi', 'Minute', 'Hour', 'Year', 'Month']);

interface TreeNode {
  name: string;
  from: number;
  to: number;
  children: TreeNode[];
}

function toTree(expr: string): TreeNode {
  const root: TreeNode = { name: 'root', from: 0, to: expr.length, children: [] };
  const stack = [root];
  parser.parse(expr).iterate({
    enter: (n) => {
      const node = { name: n.name, from: n.from, to: n.to, children: [] };
      stack.at(-1)!.children.push(node);
      stack.push(node);
    },
    leave: () => {
      stack.pop();
    },
  });
  return root.children[0]!;
}

export function outputLabels(expr: string): LabelSet {
  const tree = toTree(expr);
  const names = (n: TreeNode | undefined) =>
    new Set((n?.children ?? []).filter((c) => c.name === 'LabelName').map((c) => expr.slice(c.from, c.to)));
  const child = (n: TreeNode, name: string) => n.children.find((c) => c.name === name);
  const walk = (n: TreeNode | undefined): LabelSet => {
    if (!n) return NONE;
    switch (n.name) {
      case 'PromQL':
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'OffsetExpr':
      case 'StepInvariantExpr':
      case 'SubqueryExpr':
      case 'MatrixSelector':
        return walk(n.children.find((c) => isExpr(c.name)));
      case 'VectorSelector':
        return ALL;
      case 'NumberDurationLiteral':
      case 'NumberLiteral':
      case 'StringLiteral':
        return NONE;
      case 'AggregateExpr': {
        const op = expr.slice(child(n, 'AggregateOp')!.from, child(n, 'AggregateOp')!.to);
        const mod = child(n, 'AggregateModifier');
        const body = child(n, 'FunctionCallBody');
        const inner = walk(body?.children.filter((c) => isExpr(c.name)).at(-1));
        if (['topk', 'bottomk', 'limitk', 'limit_ratio'].includes(op)) return inner;
        if (!mod) return NONE;
        const grouping = names(child(mod, 'GroupingLabels'));
        if (child(mod, 'Without'))
          return inner.kind === 'all'
            ? { kind: 'all', except: new Set([...inner.except, ...grouping]) }
            : inner;
        return { kind: 'only', labels: new Set([...grouping].filter((l) => has(inner, l))) };
      }
      case 'FunctionCall': {
        const fn = child(n, 'FunctionIdentifier')?.children[0]?.name ?? '';
        const args = (child(n, 'FunctionCallBody')?.children ?? []).filter((c) => isExpr(c.name));
        if (NO_LABEL_FUNCTIONS.has(fn)) return NONE;
        if (fn === 'Absent' || fn === 'AbsentOverTime')
          return { kind: 'only', labels: equalityLabels(expr, args[0]) };
        // the vector argument: histogram_quantile(φ, v), label_replace(v, …), rate(v[…])…
        const vec = args.map(walk).find((l) => l.kind === 'all' || l.labels.size > 0);
        return vec ?? NONE;
      }
      case 'BinaryExpr': {
        const sides = n.children.filter((c) => isExpr(c.name));
        const [left, right] = [walk(sides[0]), walk(sides[1])];
        const op = n.children.find(
          (c) => !isExpr(c.name) && c.name !== 'MatchingModifierClause' && c.name !== 'BoolModifier',
        );
        const scalarLeft = isScalarSide(sides[0]);
        const scalarRight = isScalarSide(sides[1]);
        if (scalarLeft && scalarRight) return NONE;
        if (scalarRight) return left;
        if (scalarLeft) return right;
        if (op?.name === 'Or') return union(left, right);
        const m = child(n, 'MatchingModifierClause');
        if (
          m &&
          !child(m, 'GroupLeft') &&
          !child(m, 'GroupRight') &&
          op?.name !== 'And' &&
          op?.name !== 'Unless'
        ) {
          const matching = names(child(m, 'GroupingLabels'));
          if (child(m, 'On'))
            return { kind: 'only', labels: new Set([...matching].filter((l) => has(left, l))) };
          return left.kind === 'all' ? { kind: 'all', except: new Set([...left.except, ...matching]) } : left;
        }
        if (m && child(m, 'GroupRight')) return right;
        return left;
      }
      default:
        return ALL;
    }
  };
  return walk(tree);
}

/** Whether the result of `expr` carries `label` (pure; see outputLabels). */
export function keepsLabel(expr: string, label: string): boolean {
  return has(outputLabels(expr), label);
}

function isExpr(name: string): boolean {
  return /Expr$|Selector$|Literal$|^FunctionCall$/.test(name);
}

function isScalarSide(n: TreeNode | undefined): boolean {
  if (!n) return true;
  if (n.name === 'NumberDurationLiteral' || n.name === 'NumberLiteral') return true;
  if (n.name === 'ParenExpr' || n.name === 'UnaryExpr')
    return isScalarSide(n.children.find((c) => isExpr(c.name)));
  return false;
}

function has(l: LabelSet, label: string): boolean {
  return l.kind === 'all' ? !l.except.has(label) : l.labels.has(label);
}

function union(a: LabelSet, b: LabelSet): LabelSet {
  // `or` returns series of either side: a label is certain only when both sides keep it
  if (a.kind === 'all' && b.kind === 'all')
    return { kind: 'all', except: new Set([...a.except, ...b.except]) };
  const only = a.kind === 'only' ? a.labels : (b as { labels: Set<string> }).labels;
  return { kind: 'only', labels: new Set([...only].filter((l) => has(a, l) && has(b, l))) };
}

function equalityLabels(expr: string, n: TreeNode | undefined): Set<string> {
  const out = new Set<string>();
  const visit = (x: TreeNode) => {
    if (x.name === 'UnquotedLabelMatcher' || x.name === 'QuotedLabelMatcher') {
      const op = x.children.find((c) => c.name === 'MatchOp');
      const label = x.children.find((c) => c.name === 'LabelName');
      if (label && op?.children[0]?.name === 'EqlSingle') out.add(expr.slice(label.from, label.to));
    }
    x.children.forEach(visit);
  };
  if (n) visit(n);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Finding the files in the rendered objects

interface ConfigText {
  object: KubeObject;
  field: 'data' | 'stringData';
  key: string;
  text: string;
}

function configTexts(objects: readonly KubeObject[], keyPattern = /\.ya?ml$/): ConfigText[] {
  const out: ConfigText[] = [];
  for (const o of objects) {
    if (o.kind !== 'ConfigMap' && o.kind !== 'Secret') continue;
    for (const field of ['data', 'stringData'] as const) {
      const d = (o as Record<string, unknown>)[field];
      if (!isRecord(d)) continue;
      for (const [key, v] of Object.entries(d)) {
        if (typeof v !== 'string' || !keyPattern.test(key)) continue;
        const value = o.kind === 'Secret' && field === 'data' ? Buffer.from(v, 'base64').toString('utf8') : v;
        out.push({ object: o, field, key, text: value });
      }
    }
  }
  return out;
}

interface Route {
  receiver?: string;
  group_by?: string[];
  matchers: { label: string; value: RegExp | string }[];
  routes: Route[];
}

/** `severity="critical"`, `severity=~"warn.*"`, legacy `match`/`match_re` (Alertmanager `config/config.go`). */
function parseMatchers(r: Record<string, unknown>, keys: [string, string, string]): Route['matchers'] {
  const out: Route['matchers'] = [];
  const [matchers, match, matchRe] = keys;
  for (const m of Array.isArray(r[matchers]) ? (r[matchers] as unknown[]) : []) {
    const mm = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/.exec(text(m));
    if (mm && (mm[2] === '=' || mm[2] === '=~'))
      out.push({ label: mm[1]!, value: mm[2] === '=' ? mm[3]! : new RegExp(`^(?:${mm[3]})$`) });
  }
  if (isRecord(r[match]))
    for (const [k, v] of Object.entries(r[match])) out.push({ label: k, value: text(v) });
  if (isRecord(r[matchRe]))
    for (const [k, v] of Object.entries(r[matchRe]))
      out.push({ label: k, value: new RegExp(`^(?:${text(v)})$`) });
  return out;
}

function toRoute(r: unknown): Route {
  const rec = isRecord(r) ? r : {};
  return {
    receiver: typeof rec.receiver === 'string' ? rec.receiver : undefined,
    group_by: Array.isArray(rec.group_by) ? rec.group_by.map(text) : undefined,
    matchers: parseMatchers(rec, ['matchers', 'match', 'match_re']),
    routes: Array.isArray(rec.routes) ? rec.routes.map(toRoute) : [],
  };
}

interface Alertmanager {
  at: ConfigText;
  route: Route;
  receivers: Set<string>;
  /** Label → the values some route or inhibition matcher accepts. */
  matched: Map<string, Route['matchers'][number]['value'][]>;
}

function readAlertmanager(t: ConfigText, doc: Record<string, unknown>): Alertmanager {
  const route = toRoute(doc.route);
  const receivers = new Set(
    (Array.isArray(doc.receivers) ? doc.receivers : []).map((r) => (isRecord(r) ? text(r.name) : '')),
  );
  const matched = new Map<string, Route['matchers'][number]['value'][]>();
  const note = (ms: Route['matchers']) => {
    for (const m of ms) matched.set(m.label, [...(matched.get(m.label) ?? []), m.value]);
  };
  const visit = (r: Route) => {
    note(r.matchers);
    r.routes.forEach(visit);
  };
  route.routes.forEach(visit);
  for (const ir of Array.isArray(doc.inhibit_rules) ? doc.inhibit_rules : []) {
    if (!isRecord(ir)) continue;
    note(parseMatchers(ir, ['source_matchers', 'source_match', 'source_match_re']));
    note(parseMatchers(ir, ['target_matchers', 'target_match', 'target_match_re']));
  }
  return { at: t, route, receivers, matched };
}

/** Every group_by of the routes an alert with these labels passes through (root first). */
function groupingOf(route: Route, labels: Record<string, string>): string[] {
  const path = [route];
  let r = route;
  for (;;) {
    const next = r.routes.find((c) => c.matchers.every((m) => accepts(m.value, labels[m.label])));
    if (!next) break;
    path.push(next);
    r = next;
  }
  return [...new Set(path.flatMap((p) => p.group_by ?? []))];
}

function accepts(v: RegExp | string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  return typeof v === 'string' ? v === actual : v.test(actual);
}

// ---------------------------------------------------------------------------------------------
// The check

interface RuleAt {
  group: string;
  name: string;
  expr: string;
  labels: Record<string, string>;
  alert: boolean;
  /** Line of the expression inside the rule file (1-based), and whether it is a block scalar. */
  exprLine: number;
  exprBlock: boolean;
  ruleLine: number;
}

function rulesOf(t: string): { rules: RuleAt[] } | { error: string; line: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(t, { lineCounter });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    return { error: e.message.split('\n')[0]!, line: e.linePos?.[0]?.line ?? 1 };
  }
  const line = (n: Node | null | undefined) => (n?.range ? lineCounter.linePos(n.range[0]).line : 1);
  const rules: RuleAt[] = [];
  const groups = doc.get('groups', true);
  if (!isSeq(groups)) return { rules };
  for (const g of groups.items) {
    if (!isMap(g)) continue;
    const group = text(g.get('name'));
    const list = g.get('rules', true);
    if (!isSeq(list)) continue;
    for (const r of list.items) {
      if (!isMap(r)) continue;
      const exprNode = r.get('expr', true) as Node | undefined;
      const labels = r.get('labels');
      rules.push({
        group,
        name: text(r.get('alert') ?? r.get('record')),
        alert: r.has('alert'),
        expr: text(r.get('expr')),
        labels: isMap(labels)
          ? Object.fromEntries(
              labels.items.map((p) => [
                text(isScalar(p.key) ? p.key.value : p.key),
                text(isScalar(p.value) ? p.value.value : p.value),
              ]),
            )
          : {},
        exprLine: line(exprNode),
        exprBlock:
          isScalar(exprNode) &&
          (exprNode.type === Scalar.BLOCK_LITERAL || exprNode.type === Scalar.BLOCK_FOLDED),
        ruleLine: line(r),
      });
    }
  }
  return { rules };
}

const isRuleFile = (d: Record<string, unknown>) =>
  Array.isArray(d.groups) && d.groups.some((g) => isRecord(g) && Array.isArray(g.rules));
const isAlertmanager = (d: Record<string, unknown>) => isRecord(d.route) && Array.isArray(d.receivers);

function loadYaml(t: string): Record<string, unknown> | undefined {
  try {
    const d = parseDocument(t).toJS();
    return isRecord(d) ? d : undefined;
  } catch {
    return undefined;
  }
}

/** Rule-file and routing problems of a rendered set, each at its file:line. */
export function ruleProblems(objects: readonly KubeObject[], locator: Locator): Problem[] {
  const texts = configTexts(objects);
  const out: Problem[] = [];
  const docs = texts.map((t) => ({ t, doc: loadYaml(t.text) }));
  const externalLabels = new Set<string>();
  for (const { doc } of docs) {
    const g = doc && isRecord(doc.global) ? doc.global : undefined;
    if (g && isRecord(g.external_labels))
      for (const k of Object.keys(g.external_labels)) externalLabels.add(k);
  }
  const am = docs.find((d) => d.doc && isAlertmanager(d.doc));
  const alertmanager = am ? readAlertmanager(am.t, am.doc!) : undefined;

  const where = (t: ConfigText, lineInText: number, block = true) => {
    const at = locator.locate(t.object, [t.field, t.key]);
    // a block scalar (`key: |`) starts on the line after its key
    const start = at.line !== undefined ? at.line + (isBlockValue(locator, t) && block ? 1 : 0) : undefined;
    return { file: at.file, line: start !== undefined ? start + lineInText - 1 : undefined };
  };
  const who = (t: ConfigText) => `${t.object.kind} ${text(t.object.metadata?.name)} ${t.key}`;

  if (alertmanager) {
    const visit = (r: Route) => {
      if (r.receiver && !alertmanager.receivers.has(r.receiver))
        out.push({
          severity: 'error',
          ...where(alertmanager.at, 1, false),
          rule: 'alert-routing',
          message: `${who(alertmanager.at)}: a route sends to receiver "${r.receiver}", which is not defined (receivers: ${[...alertmanager.receivers].join(', ')})`,
        });
      r.routes.forEach(visit);
    };
    visit(alertmanager.route);
  }

  for (const { t, doc } of docs) {
    if (!doc || !isRuleFile(doc)) {
      if (!doc && /^\s*groups\s*:/m.test(t.text)) {
        const parsed = rulesOf(t.text);
        if ('error' in parsed)
          out.push({
            severity: 'error',
            ...where(t, parsed.line),
            rule: 'promql',
            message: `${who(t)}: not valid YAML: ${parsed.error}`,
          });
      }
      continue;
    }
    const parsed = rulesOf(t.text);
    if ('error' in parsed) continue;
    for (const r of parsed.rules) {
      const label = `${r.alert ? 'alert' : 'recording rule'} "${r.name}" (${who(t)}, group ${r.group})`;
      const errors = promqlErrors(r.expr);
      for (const e of errors) {
        const before = r.expr.slice(0, e.at);
        const lineInExpr = before.split('\n').length - 1;
        const column = e.at - (before.lastIndexOf('\n') + 1) + 1;
        out.push({
          severity: 'error',
          ...where(t, r.exprLine + (r.exprBlock ? 1 : 0) + lineInExpr),
          rule: 'promql',
          message: `${label}: PromQL syntax error at column ${column} of its expression: ${e.message}`,
        });
      }
      if (errors.length || !r.alert || !alertmanager) continue;
      const keeps = outputLabels(r.expr);
      const grouping = groupingOf(alertmanager.route, r.labels).filter((l) => l !== 'alertname');
      const missing = grouping.filter((l) => !(l in r.labels) && !externalLabels.has(l) && !has(keeps, l));
      if (missing.length)
        out.push({
          severity: 'error',
          ...where(t, r.ruleLine),
          rule: 'alert-routing',
          message: `${label}: its alerts have no ${missing.map((m) => `"${m}"`).join(', ')} label (the expression drops it and the rule does not set it); ${who(alertmanager.at)} groups by ${['alertname', ...grouping].join(', ')}`,
        });
      for (const [l, values] of alertmanager.matched) {
        const v = r.labels[l];
        if (v === undefined)
          out.push({
            severity: 'warning',
            ...where(t, r.ruleLine),
            rule: 'alert-routing',
            message: `${label}: sets no "${l}" label, which ${who(alertmanager.at)} routes and inhibits on`,
          });
        else if (!values.some((m) => accepts(m, v)))
          out.push({
            severity: 'warning',
            ...where(t, r.ruleLine),
            rule: 'alert-routing',
            message: `${label}: ${l}="${v}" matches no route or inhibition of ${who(alertmanager.at)} (they match ${values.map((m) => (typeof m === 'string' ? `"${m}"` : String(m))).join(', ')})`,
          });
      }
    }
  }
  out.push(...dashboardProblems(objects, locator));
  return out;
}

/**
 * Grafana dashboards in ConfigMaps (`*.json` keys holding a dashboard model: `panels`, rows nest
 * theirs): every Prometheus target's `expr` parses, reported at its line in the JSON.
 */
export function dashboardProblems(objects: readonly KubeObject[], locator: Locator): Problem[] {
  const out: Problem[] = [];
  for (const t of configTexts(objects, /\.json$/)) {
    const at = locator.locate(t.object, [t.field, t.key]);
    const block = isBlockValue(locator, t) ? 1 : 0;
    let model: unknown;
    try {
      model = JSON.parse(t.text);
    } catch (err) {
      if (/^\s*\{/.test(t.text))
        out.push({
          severity: 'error',
          file: at.file,
          line: at.line,
          rule: 'promql',
          message: `ConfigMap ${text(t.object.metadata?.name)} ${t.key}: not valid JSON: ${(err as Error).message}`,
        });
      continue;
    }
    if (!isRecord(model) || !Array.isArray(model.panels)) continue;
    const lines = t.text.split('\n');
    const panels = (list: unknown[]): Record<string, unknown>[] =>
      list.filter(isRecord).flatMap((p) => [p, ...(Array.isArray(p.panels) ? panels(p.panels) : [])]);
    for (const p of panels(model.panels))
      for (const target of Array.isArray(p.targets) ? p.targets.filter(isRecord) : []) {
        if (typeof target.expr !== 'string') continue;
        const errors = promqlErrors(target.expr);
        if (!errors.length) continue;
        const i = lines.findIndex((l) => l.includes(JSON.stringify(target.expr)));
        out.push({
          severity: 'error',
          file: at.file,
          line: at.line !== undefined ? at.line + block + Math.max(0, i) : undefined,
          rule: 'promql',
          message: `dashboard "${text(model.title)}" (ConfigMap ${text(t.object.metadata?.name)} ${t.key}), panel "${text(p.title)}": PromQL syntax error at column ${errors[0]!.at + 1}: ${errors[0]!.message}`,
        });
      }
  }
  return out;
}

function isBlockValue(locator: Locator, t: ConfigText): boolean {
  const base = locator.source(t.object);
  const node = base?.src.doc.getIn([t.field, t.key], true);
  if (!isScalar(node)) return true; // written elsewhere (a patch, a generator): assume the usual `key: |`
  return node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
}
