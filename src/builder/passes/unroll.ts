/**
 * Control flow into straight-line graphs, so that If, Loop and Scan run on the GPU through the
 * ordinary kernels (and the optimizer sees their bodies). The engine records one fixed program, so
 * every iteration has to be known when the engine is built:
 *
 *  - Scan: the sequence length is a dimension of a scan input, fixed at build. Each iteration's
 *    body is copied into the outer graph with its values renamed (`<scan>/i<k>/<name>`), its scan
 *    inputs read with Gather at the step's index, its state outputs feeding the next copy; the scan
 *    outputs are stacked with Unsqueeze + Concat. Scan-8 (batch axis) runs the same per batch row.
 *  - Loop: the trip count M and the initial condition must be build-time constants, and the body's
 *    condition output must fold to a constant in every iteration (it usually is `Identity(cond)` or
 *    a comparison of the iteration number): the copies stop where it turns false or at M.
 *  - If: a build-time condition inlines the taken branch. A run-time condition plans both branches
 *    and selects each output with Where(cond, then, else): sound because ONNX branches have no side
 *    effects, and possible when both branches give the same dtype and static shape.
 *
 * Outer-scope names stay as they are; names a body defines are renamed per copy, in nested
 * subgraphs too. A control-flow node that cannot be unrolled is an UnsupportedError naming it and
 * saying why (a run-time trip count, a run-time If whose branches differ, a budget overrun). The
 * node budget (unrollLimits.maxNodes) bounds what unrolling may add to the graph.
 */
import { UnsupportedError } from '../../errors';
import { Attrs } from '../../ir/attrs';
import { Attr, cloneModel, Graph, Model, Node, ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { inferShapes, isStatic } from '../../ops/infer-shapes';
import type { OpRegistry } from '../../ops/registry';

/** Most nodes the graph may hold after unrolling (mutable, for tests and for callers that need more). */
export const unrollLimits = { maxNodes: 20000 };

const CONTROL = new Set(['If', 'Loop', 'Scan']);

export interface UnrollOptions {
  registry: OpRegistry;
  inputTypes: Map<string, ValueType>;
  log?: (line: string) => void;
}

/** A copy of `model` with every top-level (and, round by round, nested) If/Loop/Scan unrolled; the model itself when it has none. */
export function unrollControlFlow(model: Model, options: UnrollOptions): Model {
  if (!model.graph.nodes.some(isControl)) return model;
  const m = cloneModel(model);
  const selects: Select[] = [];
  // each round unrolls at least one node or throws (a node is only deferred behind one unrolled earlier in its round)
  while (m.graph.nodes.some(isControl)) new Unroller(m, options, selects).run();
  if (selects.length) checkSelects(m, options, selects);
  return m;
}

/** A run-time If planned as both branches: its outputs and the then/else values Where selects from. */
interface Select { node: Node; values: [string, string, string][] }

/**
 * Where(cond, then, else) is the If only when both branches give one dtype and one static shape
 * (Where would broadcast two shapes into a third): checked on the unrolled graph, where nested
 * control flow no longer hides the shapes.
 */
function checkSelects(m: Model, options: UnrollOptions, selects: Select[]): void {
  const { types } = inferShapes(m.graph, m.opsets, { registry: options.registry, inputTypes: options.inputTypes });
  const show = (t: ValueType | undefined) => (t ? `${t.dtype}[${t.shape?.join(',') ?? '?'}]` : 'unknown');
  for (const { node, values } of selects) {
    for (const [o, t, e] of values) {
      const a = types.get(t), b = types.get(e);
      const same = a && b && a.dtype === b.dtype && isStatic(a.shape) && isStatic(b.shape) && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape![i]);
      if (!same) {
        throw new UnsupportedError(`the condition '${node.inputs[0]}' is only known at run time, and output '${o}' differs between the branches (then ${show(a)}, else ${show(b)}); the GPU engine runs both branches and selects, which needs one dtype and one static shape; make the condition a build-time constant or run the model with the reference interpreter`, node);
      }
    }
  }
}

/** A control node whose facts (a condition, a trip count, a shape) may follow from a node unrolled earlier in the round: next round. */
class Defer extends Error {}

function isControl(n: Node): boolean {
  return n.domain === '' && CONTROL.has(n.opType);
}

/** One round over the top-level graph. */
class Unroller {
  private readonly g: Graph;
  private readonly opset: number;
  private readonly names = new Set<string>();
  private types: Map<string, ValueType>;
  private constants: Map<string, Tensor>;
  private out: Node[] = [];
  /** A control node was unrolled earlier in this round. */
  private changed = false;

  constructor(private readonly m: Model, private readonly options: UnrollOptions, private readonly selects: Select[]) {
    this.g = m.graph;
    this.opset = m.opsets.get('') ?? 0;
    collectNames(this.g, this.names);
    const inf = inferShapes(this.g, m.opsets, { registry: options.registry, inputTypes: options.inputTypes });
    this.types = inf.types;
    this.constants = inf.constants;
  }

  run(): void {
    for (const node of this.g.nodes) {
      if (!isControl(node)) { this.out.push(node); continue; }
      const before = this.out.length;
      const initializers = new Set(this.g.initializers.keys());
      try {
        if (node.opType === 'If') this.unrollIf(node);
        else if (node.opType === 'Loop') this.unrollLoop(node);
        else if (this.opset >= 9) this.unrollScan9(node);
        else this.unrollScan8(node);
      } catch (e) {
        if (!(e instanceof Defer)) throw e;
        // keep the node for the next round, without what this attempt added
        this.out.length = before;
        for (const k of [...this.g.initializers.keys()]) if (!initializers.has(k)) this.g.initializers.delete(k);
        this.out.push(node);
        continue;
      }
      this.changed = true;
      this.options.log?.(`unroll: ${describe(node)} -> ${this.out.length - before} nodes`);
    }
    this.g.nodes = this.out;
  }

  /** The error for a fact this round does not know: deferred when an earlier node of the round was unrolled (the fact may follow from it). */
  private unknown(message: string, node: Node): never {
    if (this.changed) throw new Defer(message);
    throw new UnsupportedError(message, node);
  }

  // ---- helpers ----

  private fresh(base: string): string {
    let n = base;
    for (let k = 1; this.names.has(n); k++) n = `${base}_${k}`;
    this.names.add(n);
    return n;
  }

  private budget(node: Node): void {
    const n = this.out.length + this.g.nodes.length;
    if (n > unrollLimits.maxNodes) {
      throw new UnsupportedError(`unrolling it for the GPU grows the graph past ${unrollLimits.maxNodes} nodes (unrollLimits.maxNodes); the engine records every iteration, so a loop this long cannot be built; shorten the loop or run the model with the reference interpreter`, node);
    }
  }

  private add(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, name = ''): void {
    this.out.push(new Node({ name, opType, inputs, outputs, attrs }));
  }

  private constant(base: string, t: Tensor): string {
    const n = this.fresh(base);
    this.g.initializers.set(n, t);
    this.constants.set(n, t);
    this.types.set(n, { kind: 'tensor', dtype: t.dtype, shape: [...t.dims] });
    return n;
  }

  /** The known types and constants of `names` (what a subgraph or a step reads from outside), not the whole graph's. */
  private outer(names: Iterable<string>): { outerTypes: Map<string, ValueType>; outerConstants: Map<string, Tensor> } {
    const outerTypes = new Map<string, ValueType>(), outerConstants = new Map<string, Tensor>();
    for (const n of names) {
      const t = this.types.get(n), c = this.constants.get(n);
      if (t) outerTypes.set(n, t);
      if (c) outerConstants.set(n, c);
    }
    return { outerTypes, outerConstants };
  }

  private unsqueeze(x: string, axis: number, out: string): void {
    if (this.opset >= 13) this.add('Unsqueeze', [x, this.constant(`${out}/axes`, Tensor.from('int64', [1], [axis]))], [out]);
    else this.add('Unsqueeze', [x], [out], { axes: { type: 'ints', value: [axis] } });
  }

  /** Stack per-iteration values along a new axis (Unsqueeze each, Concat). */
  private stack(values: string[], axis: number, out: string): void {
    const parts = values.map((v, k) => {
      const u = this.fresh(`${out}/u${k}`);
      this.unsqueeze(v, axis, u);
      return u;
    });
    this.add('Concat', parts, [out], { axis: { type: 'int', value: axis } });
  }

  private gather(x: string, index: number, axis: number, base: string): string {
    const out = this.fresh(base);
    this.add('Gather', [x, this.constant(`${base}/index`, Tensor.scalar('int64', BigInt(index)))], [out], { axis: { type: 'int', value: axis } });
    return out;
  }

  /**
   * Copies `body`'s nodes into the output with its inputs bound to `bind` (body input k -> outer
   * value); returns the outer name of each body output.
   */
  private copyBody(node: Node, body: Graph, bind: string[], prefix: string): string[] {
    const map = new Map<string, string>();
    body.inputs.forEach((n, k) => map.set(n, bind[k]));
    for (const [n, t] of body.initializers) {
      if (map.has(n)) continue; // an input with a default: bound
      map.set(n, this.constant(`${prefix}${n}`, t));
    }
    for (const n of body.nodes) {
      const inputs = n.inputs.map((i) => (i ? map.get(i) ?? i : ''));
      const outputs = n.outputs.map((o) => {
        if (!o) return '';
        const r = this.fresh(`${prefix}${o}`);
        map.set(o, r);
        return r;
      });
      const attrs = new Map<string, Attr>();
      for (const [k, a] of n.attrs) {
        if (a.type === 'graph') attrs.set(k, { ...a, value: renameSubgraph(a.value as Graph, map, this.g) });
        else if (a.type === 'graphs') attrs.set(k, { ...a, value: (a.value as Graph[]).map((s) => renameSubgraph(s, map, this.g)) });
        else attrs.set(k, a);
      }
      this.out.push(new Node({ name: n.name ? this.fresh(`${prefix}${n.name}`) : '', opType: n.opType, domain: n.domain, inputs, outputs, attrs }));
      this.budget(node);
    }
    return body.outputs.map((o) => map.get(o) ?? o);
  }

  /** Output k of the control node takes `value` (an Identity, which the builder turns into a view). */
  private emit(node: Node, k: number, value: string): void {
    const o = node.outputs[k];
    if (o) this.add('Identity', [value], [o]);
  }

  private tensorType(node: Node, name: string, what: string): ValueType {
    const t = this.types.get(name);
    if (t && t.kind && t.kind !== 'tensor') {
      throw new UnsupportedError(`${what} '${name}' is ${t.kind === 'optional' ? 'an' : 'a'} ${t.kind}; the GPU engine holds tensors only`, node);
    }
    return t ?? { dtype: 'float32' };
  }

  // ---- If ----

  private unrollIf(node: Node): void {
    const attrs = new Attrs(node);
    const thenG = attrs.graph('then_branch'), elseG = attrs.graph('else_branch');
    if (!thenG || !elseG) throw new UnsupportedError('If needs then_branch and else_branch', node);
    const base = node.name || node.outputs.find((o) => o) || 'if';
    const cond = this.constants.get(node.inputs[0]);
    if (cond) {
      if (cond.size !== 1) throw new UnsupportedError(`cond must hold one value, got dims [${cond.dims.join(',')}]`, node);
      const taken = Number(cond.data[0]) !== 0 ? thenG : elseG;
      const outs = this.copyBody(node, taken, [], `${base}/${Number(cond.data[0]) !== 0 ? 'then' : 'else'}/`);
      node.outputs.forEach((_, k) => this.emit(node, k, outs[k]));
      return;
    }
    // a run-time condition (unless an earlier node of this round may still make it a constant): both branches, then Where per output
    if (this.changed) throw new Defer('the condition may fold next round');
    if (this.opset < 9) throw new UnsupportedError(`If with a run-time condition needs Where (opset 9+); this model is opset ${this.opset}`, node);
    const branchTypes = (b: Graph, which: string) => {
      try {
        const r = inferShapes(b, this.m.opsets, { registry: this.options.registry, ...this.outer(b.freeNames()) });
        return b.outputs.map((o) => r.types.get(o));
      } catch (e) {
        throw new UnsupportedError(`the condition '${node.inputs[0]}' is only known at run time, so the GPU engine plans both branches and selects, and the ${which} branch cannot run with these input shapes (${(e as Error).message}); make the condition a build-time constant (an initializer, or a value the builder folds) or run the model with the reference interpreter`, node);
      }
    };
    const tt = branchTypes(thenG, 'then'), et = branchTypes(elseG, 'else');
    node.outputs.forEach((o, k) => {
      for (const t of [tt[k], et[k]]) {
        if (t?.kind && t.kind !== 'tensor') throw new UnsupportedError(`output ${k} ('${o}') is ${t.kind === 'optional' ? 'an' : 'a'} ${t.kind}, which the GPU engine does not hold; run the model with the reference interpreter`, node);
      }
    });
    const thenOuts = this.copyBody(node, thenG, [], `${base}/then/`);
    const elseOuts = this.copyBody(node, elseG, [], `${base}/else/`);
    let c = node.inputs[0];
    const ct = this.types.get(c);
    if (!ct?.shape || ct.shape.length !== 0) {
      const r = this.fresh(`${base}/cond`);
      this.add('Reshape', [c, this.constant(`${base}/scalar`, Tensor.from('int64', [0], []))], [r]);
      c = r;
    }
    node.outputs.forEach((o, k) => { if (o) this.add('Where', [c, thenOuts[k], elseOuts[k]], [o]); });
    // the branches' shapes are checked once every nested control node is unrolled (checkSelects)
    this.selects.push({ node, values: node.outputs.map((o, k) => [o, thenOuts[k], elseOuts[k]] as [string, string, string]).filter(([o]) => o) });
  }

  // ---- Loop ----

  private unrollLoop(node: Node): void {
    const attrs = new Attrs(node);
    const body = attrs.graph('body');
    if (!body) throw new UnsupportedError("Loop needs the graph attribute 'body'", node);
    const base = node.name || node.outputs.find((o) => o) || 'loop';
    const [mName, cName] = node.inputs;
    const carried0 = node.inputs.slice(2);
    const nCarried = carried0.length;
    const nScan = body.outputs.length - 1 - nCarried;
    if (nScan < 0 || body.inputs.length !== nCarried + 2) throw new UnsupportedError(`body takes ${body.inputs.length} inputs and gives ${body.outputs.length} outputs, which do not fit ${nCarried} loop-carried values`, node);
    carried0.forEach((c) => this.tensorType(node, c, 'loop-carried value'));
    const M = mName ? this.constants.get(mName) : undefined;
    if (mName && !M) this.unknown(`the trip count '${mName}' is only known at run time; the GPU engine records every iteration when it is built, so it unrolls loops whose trip count is a build-time constant; fix it (a constant, or a shape the builder can fold: BuilderConfig.inputShapes) or run the model with the reference interpreter`, node);
    const C = cName ? this.constants.get(cName) : undefined;
    if (cName && !C) this.unknown(`the loop condition '${cName}' is only known at run time; the GPU engine unrolls loops whose iterations are all known when it is built; run the model with the reference interpreter`, node);
    if (!M && !cName) throw new UnsupportedError('the loop has neither a trip count nor a condition, so it never ends', node);
    const trip = M ? Number(M.data[0]) : Infinity;
    let cond = C ? Number(C.data[0]) !== 0 : true;
    let carried = carried0;
    const scans: string[][] = Array.from({ length: nScan }, () => []);
    let i = 0;
    for (; cond && i < trip; i++) {
      const prefix = `${base}/i${i}/`;
      const iter = this.constant(`${prefix}iter`, Tensor.scalar('int64', BigInt(i)));
      const condIn = this.constant(`${prefix}cond_in`, Tensor.scalar('bool', 1));
      const start = this.out.length;
      const outs = this.copyBody(node, body, [iter, condIn, ...carried], prefix);
      // the body's condition must fold: infer over this iteration's nodes with everything known so far
      const step = new Graph(`${base}/i${i}`, this.g.parent);
      step.nodes = this.out.slice(start);
      const r = inferShapes(step, this.m.opsets, { registry: this.options.registry, ...this.outer(step.freeNames()) });
      for (const [k, v] of r.types) this.types.set(k, v);
      for (const [k, v] of r.constants) this.constants.set(k, v);
      const c = this.constants.get(outs[0]);
      if (!c) this.unknown(`the body's condition output '${body.outputs[0]}' is computed at run time (iteration ${i}); the GPU engine unrolls loops whose iterations are all known when it is built; run the model with the reference interpreter`, node);
      cond = Number(c.data[0]) !== 0;
      carried = outs.slice(1, 1 + nCarried);
      for (let k = 0; k < nScan; k++) scans[k].push(outs[1 + nCarried + k]);
    }
    if (i === 0 && nScan > 0 && node.outputs.slice(nCarried).some((o) => o)) {
      throw new UnsupportedError('the loop runs zero iterations, so its scan outputs are empty tensors; the GPU engine does not plan empty scan outputs', node);
    }
    carried.forEach((c, k) => this.emit(node, k, c));
    scans.forEach((vals, k) => { const o = node.outputs[nCarried + k]; if (o) this.stack(vals, 0, o); });
  }

  // ---- Scan ----

  /** One scan over `len` steps: state and per-step slices bound, returns final states and per-step outputs. */
  private scanSteps(node: Node, body: Graph, state0: string[], seqs: { name: string; axis: number; reverse: boolean }[], len: number, prefix: string): { state: string[]; outs: string[][] } {
    let state = state0;
    const K = body.outputs.length - state0.length;
    const outs: string[][] = Array.from({ length: K }, () => []);
    for (let i = 0; i < len; i++) {
      const p = `${prefix}i${i}/`;
      const slices = seqs.map((s, j) => this.gather(s.name, s.reverse ? len - 1 - i : i, s.axis, `${p}in${j}`));
      const res = this.copyBody(node, body, [...state, ...slices], p);
      state = res.slice(0, state0.length);
      for (let k = 0; k < K; k++) outs[k].push(res[state0.length + k]);
    }
    return { state, outs };
  }

  private unrollScan9(node: Node): void {
    const attrs = new Attrs(node);
    const body = attrs.graph('body');
    if (!body) throw new UnsupportedError("Scan needs the graph attribute 'body'", node);
    const base = node.name || node.outputs.find((o) => o) || 'scan';
    const M = attrs.int('num_scan_inputs');
    const N = node.inputs.length - M;
    const K = body.outputs.length - N;
    if (M < 1 || N < 0 || K < 0) throw new UnsupportedError(`num_scan_inputs ${M} does not fit ${node.inputs.length} inputs and a body of ${body.outputs.length} outputs`, node);
    const inAxes = attrs.ints('scan_input_axes', new Array<number>(M).fill(0));
    const inDirs = attrs.ints('scan_input_directions', new Array<number>(M).fill(0));
    const outAxes = attrs.ints('scan_output_axes', new Array<number>(K).fill(0));
    const outDirs = attrs.ints('scan_output_directions', new Array<number>(K).fill(0));
    node.inputs.slice(0, N).forEach((s) => this.tensorType(node, s, 'state'));
    let len: number | undefined;
    const seqs = node.inputs.slice(N).map((name, j) => {
      const t = this.tensorType(node, name, 'scan input');
      if (!isStatic(t.shape)) this.unknown(`the shape of scan input '${name}' is not known at build time; give input shapes (BuilderConfig.inputShapes, --shapes) so that the sequence length is fixed`, node);
      const a = inAxes[j] < 0 ? inAxes[j] + t.shape.length : inAxes[j];
      if (a < 0 || a >= t.shape.length) throw new UnsupportedError(`scan_input_axes[${j}] = ${inAxes[j]} is out of range for rank ${t.shape.length}`, node);
      if (len !== undefined && t.shape[a] !== len) throw new UnsupportedError(`scan inputs disagree on the sequence length (${len} vs ${t.shape[a]})`, node);
      len = t.shape[a];
      return { name, axis: a, reverse: inDirs[j] !== 0 };
    });
    if (!len) throw new UnsupportedError('the sequence length is zero; the GPU engine does not plan empty scan outputs', node);
    const { state, outs } = this.scanSteps(node, body, node.inputs.slice(0, N), seqs, len, `${base}/`);
    state.forEach((s, k) => this.emit(node, k, s));
    outs.forEach((vals, k) => {
      const o = node.outputs[N + k];
      if (o) this.stack(outDirs[k] ? vals.slice().reverse() : vals, outAxes[k], o);
    });
  }

  /** Scan-8: a leading batch axis on every input, an optional sequence_lens first input. */
  private unrollScan8(node: Node): void {
    const attrs = new Attrs(node);
    const body = attrs.graph('body');
    if (!body) throw new UnsupportedError("Scan needs the graph attribute 'body'", node);
    const base = node.name || node.outputs.find((o) => o) || 'scan';
    const M = attrs.int('num_scan_inputs');
    const rest = node.inputs.slice(1);
    const N = rest.length - M;
    const K = body.outputs.length - N;
    if (M < 1 || N < 0 || K < 0) throw new UnsupportedError(`num_scan_inputs ${M} does not fit ${rest.length} inputs`, node);
    const dirs = attrs.ints('directions', new Array<number>(M).fill(0));
    const shapes = rest.map((n) => {
      const t = this.tensorType(node, n, 'input');
      if (!isStatic(t.shape) || t.shape.length < 1) this.unknown(`the shape of '${n}' is not known at build time; give input shapes (BuilderConfig.inputShapes, --shapes)`, node);
      return t.shape;
    });
    const batch = shapes[0][0];
    const maxLen = shapes[N]?.[1];
    if (maxLen === undefined) throw new UnsupportedError('scan inputs need a sequence axis', node);
    if (node.inputs[0]) {
      const lens = this.constants.get(node.inputs[0]);
      if (!lens || Array.from(lens.data as ArrayLike<number | bigint>, Number).some((l) => l !== maxLen)) {
        this.unknown('sequence_lens must be absent or a build-time constant equal to the sequence length on every row (shorter rows are not unrolled)', node);
      }
    }
    if (!batch || !maxLen) throw new UnsupportedError('an empty batch or sequence; the GPU engine does not plan empty scan outputs', node);
    const finals: string[][] = Array.from({ length: N }, () => []);
    const scanOuts: string[][] = Array.from({ length: K }, () => []);
    for (let b = 0; b < batch; b++) {
      const p = `${base}/b${b}/`;
      const state0 = rest.slice(0, N).map((s, k) => this.gather(s, b, 0, `${p}state${k}`));
      const seqs = rest.slice(N).map((s, j) => ({ name: this.gather(s, b, 0, `${p}seq${j}`), axis: 0, reverse: dirs[j] !== 0 }));
      const { state, outs } = this.scanSteps(node, body, state0, seqs, maxLen, p);
      state.forEach((s, k) => finals[k].push(s));
      outs.forEach((vals, k) => {
        const o = this.fresh(`${p}out${k}`);
        this.stack(vals, 0, o);
        scanOuts[k].push(o);
      });
    }
    finals.forEach((vals, k) => { const o = node.outputs[k]; if (o) this.stack(vals, 0, o); });
    scanOuts.forEach((vals, k) => { const o = node.outputs[N + k]; if (o) this.stack(vals, 0, o); });
  }
}

function describe(node: Node): string {
  return `${node.name || node.outputs[0]} (${node.opType})`;
}

/** Every name a graph and its subgraphs define or read. */
function collectNames(g: Graph, out: Set<string>): void {
  for (const n of g.inputs) out.add(n);
  for (const n of g.outputs) out.add(n);
  for (const n of g.initializers.keys()) out.add(n);
  for (const node of g.nodes) {
    for (const n of [...node.inputs, ...node.outputs]) if (n) out.add(n);
    if (node.name) out.add(node.name);
    for (const a of node.attrs.values()) {
      if (a.type === 'graph') collectNames(a.value as Graph, out);
      else if (a.type === 'graphs') for (const s of a.value as Graph[]) collectNames(s, out);
    }
  }
}

/**
 * A copy of subgraph `g` (of a body being copied) whose references to the body's values follow
 * `map`; what `g` defines itself keeps its name. Its parent becomes `parent`.
 */
function renameSubgraph(g: Graph, map: Map<string, string>, parent: Graph): Graph {
  const defined = new Set<string>([...g.inputs, ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) if (o) defined.add(o);
  const inner = new Map([...map].filter(([k]) => !defined.has(k)));
  const ng = new Graph(g.name, parent);
  ng.inputs = g.inputs.slice();
  ng.initializers = new Map(g.initializers);
  ng.types = new Map(g.types);
  ng.docString = g.docString;
  ng.nodes = g.nodes.map((n) => {
    const attrs = new Map<string, Attr>();
    for (const [k, a] of n.attrs) {
      if (a.type === 'graph') attrs.set(k, { ...a, value: renameSubgraph(a.value as Graph, inner, ng) });
      else if (a.type === 'graphs') attrs.set(k, { ...a, value: (a.value as Graph[]).map((s) => renameSubgraph(s, inner, ng)) });
      else attrs.set(k, a);
    }
    return new Node({ name: n.name, opType: n.opType, domain: n.domain, inputs: n.inputs.map((i) => (i ? inner.get(i) ?? i : '')), outputs: n.outputs, attrs });
  });
  ng.outputs = g.outputs.map((o) => inner.get(o) ?? o);
  return ng;
}
