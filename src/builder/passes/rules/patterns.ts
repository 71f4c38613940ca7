/**
 * Pattern recognition: the decomposed forms exporters write, rebuilt into single layers. Products
 * are matched as multisets of factors (nested Mul, Div by a constant), so every association and
 * operand order of `0.5 * x * (1 + erf(x / sqrt 2))` is the same pattern.
 */
import { Node } from '../../../ir/graph';
import { Tensor } from '../../../ir/tensor';
import { fusedNode, GraphView, Rule, VKRT_DOMAIN } from '../rule';
import { attrsOf, float, int, isConstEqual, otherInput, producerIf, scalarOf, str, valuesOf } from '../util';

interface Product {
  /** Product of the scalar constant factors. */
  coef: number;
  /** The non-constant factors (with repetition). */
  vals: string[];
  /** The Mul/Div nodes of the tree (all but the root used once). */
  nodes: Node[];
}

/** Flatten the Mul/Div-by-constant tree producing `name` (intermediates used once). */
function product(g: GraphView, name: string, root?: Node): Product {
  const out: Product = { coef: 1, vals: [], nodes: [] };
  const visit = (v: string, user: Node | undefined) => {
    const c = scalarOf(g, v);
    if (c !== undefined) { out.coef *= c; return; }
    const p = user ? producerIf(g, v, ['Mul', 'Div'], user) : root && root.outputs[0] === v && (root.opType === 'Mul' || root.opType === 'Div') ? root : undefined;
    if (!p || p.domain) { out.vals.push(v); return; }
    if (p.opType === 'Div') {
      const d = scalarOf(g, p.inputs[1]);
      if (d === undefined || d === 0) { out.vals.push(v); return; }
      out.nodes.push(p);
      out.coef /= d;
      visit(p.inputs[0], p);
      return;
    }
    out.nodes.push(p);
    visit(p.inputs[0], p);
    visit(p.inputs[1], p);
  };
  visit(name, undefined);
  return out;
}

/** The node of a product tree that reads `v` (or `fallback` for a single-factor tree). */
function userOf(p: Product, v: string, fallback: Node): Node {
  return p.nodes.find((n) => n.inputs.includes(v)) ?? fallback;
}

const near = (a: number, b: number, tol = 1e-4) => Math.abs(a - b) <= tol * Math.abs(b);

/** `1 + f(...)` where f is produced by `op` and used only here: returns the f node and the Add. */
function onePlus(g: GraphView, name: string, op: string, user: Node): { add: Node; f: Node } | undefined {
  const add = producerIf(g, name, 'Add', user);
  if (!add || add.domain) return undefined;
  for (const k of [0, 1]) {
    if (!isConstEqual(g, add.inputs[1 - k], 1)) continue;
    const f = producerIf(g, add.inputs[k], op, add);
    if (f && !f.domain) return { add, f };
  }
  return undefined;
}

function clean(base: Node, parts: Node[], opType: string, inputs: string[], outputs: string[], attrs: Record<string, ReturnType<typeof str>>): Node {
  const n = fusedNode(base, parts, { opType, domain: VKRT_DOMAIN, inputs, outputs });
  for (const k of [...n.attrs.keys()]) if (k !== 'vkrt_fused') n.attrs.delete(k);
  for (const [k, v] of Object.entries(attrs)) n.attrs.set(k, v);
  return n;
}

/** GELU, erf form: 0.5 * x * (1 + erf(x / sqrt(2))) in any association. */
export const geluErf: Rule = {
  name: 'gelu-erf',
  ops: ['Mul'],
  match(root, g) {
    const p = product(g, root.outputs[0], root);
    if (p.vals.length !== 2 || !near(p.coef, 0.5)) return undefined;
    for (const k of [0, 1]) {
      const x = p.vals[1 - k];
      const user = p.nodes.find((n) => n.inputs.includes(p.vals[k]))!;
      const op = onePlus(g, p.vals[k], 'Erf', user);
      if (!op) continue;
      const sName = op.f.inputs[0];
      if (!g.usedOnlyBy(sName, op.f)) continue;
      const inner = product(g, sName, g.producer(sName));
      if (inner.vals.length !== 1 || inner.vals[0] !== x || !near(inner.coef, Math.SQRT1_2)) continue;
      const parts = [...inner.nodes, op.f, op.add, ...p.nodes.reverse()];
      return { remove: parts, add: [clean(root, parts, 'Gelu', [x], root.outputs, {})] };
    }
    return undefined;
  },
};

/** GELU, tanh form: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))). */
export const geluTanh: Rule = {
  name: 'gelu-tanh',
  ops: ['Mul'],
  match(root, g) {
    const p = product(g, root.outputs[0], root);
    if (p.vals.length !== 2 || !near(p.coef, 0.5)) return undefined;
    for (const k of [0, 1]) {
      const x = p.vals[1 - k];
      const user = p.nodes.find((n) => n.inputs.includes(p.vals[k]))!;
      const op = onePlus(g, p.vals[k], 'Tanh', user);
      if (!op) continue;
      const zName = op.f.inputs[0];
      if (!g.usedOnlyBy(zName, op.f)) continue;
      const z = product(g, zName, g.producer(zName));
      if (z.vals.length !== 1 || !near(z.coef, Math.sqrt(2 / Math.PI))) continue;
      const sum = producerIf(g, z.vals[0], 'Add', userOf(z, z.vals[0], op.f));
      if (!sum || sum.domain) continue;
      const q = otherInput(sum, x);
      if (!q || !g.usedOnlyBy(q, sum)) continue;
      const cube = product(g, q, g.producer(q));
      let xs = cube.vals;
      const extra: Node[] = [];
      if (xs.length === 1) {
        const pow = producerIf(g, xs[0], 'Pow', userOf(cube, xs[0], sum));
        if (!pow || !isConstEqual(g, pow.inputs[1], 3)) continue;
        xs = [pow.inputs[0], pow.inputs[0], pow.inputs[0]];
        extra.push(pow);
      }
      if (xs.length !== 3 || xs.some((v) => v !== x) || !near(cube.coef, 0.044715)) continue;
      const parts = [...extra, ...cube.nodes.reverse(), sum, ...z.nodes.reverse(), op.f, op.add, ...p.nodes.reverse()];
      return { remove: parts, add: [clean(root, parts, 'Gelu', [x], root.outputs, { approximate: str('tanh') })] };
    }
    return undefined;
  },
};

/** HardSwish: x * HardSigmoid(x; 1/6, 1/2), or x * Relu6(x + 3) / 6. */
export const hardSwish: Rule = {
  name: 'hardswish',
  ops: ['Mul', 'Div'],
  match(root, g) {
    const p = product(g, root.outputs[0], root);
    if (p.vals.length !== 2) return undefined;
    for (const k of [0, 1]) {
      const x = p.vals[1 - k];
      const user = p.nodes.find((n) => n.inputs.includes(p.vals[k]))!;
      const hs = producerIf(g, p.vals[k], 'HardSigmoid', user);
      if (hs && !hs.domain && hs.inputs[0] === x && near(p.coef, 1) && near(attrsOf(hs).float('alpha', 0.2), 1 / 6) && near(attrsOf(hs).float('beta', 0.5), 0.5)) {
        const parts = [hs, ...p.nodes.reverse()];
        return { remove: parts, add: [clean(root, parts, 'HardSwish', [x], root.outputs, {})] };
      }
      const clip = producerIf(g, p.vals[k], 'Clip', user);
      if (!clip || clip.domain || !near(p.coef, 1 / 6) || g.opset('') < 11) continue;
      if (!isConstEqual(g, clip.inputs[1], 0) || !isConstEqual(g, clip.inputs[2], 6)) continue;
      const add = producerIf(g, clip.inputs[0], 'Add', clip);
      if (!add || add.domain || otherInput(add, x) === undefined || !isConstEqual(g, otherInput(add, x), 3)) continue;
      const parts = [add, clip, ...p.nodes.reverse()];
      return { remove: parts, add: [clean(root, parts, 'HardSwish', [x], root.outputs, {})] };
    }
    return undefined;
  },
};

/** The single reduced axis of a Reduce* node with keepdims=1, or undefined. */
function reduceAxis(g: GraphView, node: Node, rank: number): number | undefined {
  const at = attrsOf(node);
  if (at.int('keepdims', 1) !== 1) return undefined;
  const since = node.opType === 'ReduceSum' ? 13 : 18;
  const axes = g.opset('') >= since ? (node.inputs[1] && g.constant(node.inputs[1]) ? valuesOf(g.constant(node.inputs[1])!) : undefined) : at.ints('axes', []);
  if (!axes || axes.length !== 1) return undefined;
  return axes[0] < 0 ? axes[0] + rank : axes[0];
}

/** Softmax: Exp(x - ReduceMax(x)) / ReduceSum(Exp(...)) over one axis (the Max optional). */
export const softmax: Rule = {
  name: 'softmax',
  ops: ['Div'],
  match(div, g) {
    const exp = producerIf(g, div.inputs[0], 'Exp');
    const sum = producerIf(g, div.inputs[1], 'ReduceSum', div);
    if (!exp || exp.domain || !sum || sum.domain || sum.inputs[0] !== exp.outputs[0]) return undefined;
    const users = g.consumers(exp.outputs[0]);
    if (users.length !== 2 || g.isGraphOutput(exp.outputs[0])) return undefined;
    const shape = g.shape(div.outputs[0]);
    if (!shape) return undefined;
    const axis = reduceAxis(g, sum, shape.length);
    if (axis === undefined) return undefined;
    let x = exp.inputs[0];
    const parts: Node[] = [];
    const sub = producerIf(g, x, 'Sub', exp);
    if (sub && !sub.domain) {
      const mx = producerIf(g, sub.inputs[1], 'ReduceMax', sub);
      if (mx && !mx.domain && mx.inputs[0] === sub.inputs[0] && reduceAxis(g, mx, shape.length) === axis) {
        x = sub.inputs[0];
        parts.push(mx, sub);
      }
    }
    parts.push(exp, sum, div);
    return { remove: parts, add: [clean(div, parts, 'Softmax', [x], div.outputs, { axis: int(axis) })] };
  },
};

/** LayerNormalization over the trailing axes: (x - mean) / sqrt(var + eps) [* gamma] [+ beta]. */
export const layerNorm: Rule = {
  name: 'layernorm',
  ops: ['Div'],
  match(div, g) {
    const d = div.inputs[0];
    const sqrt = producerIf(g, div.inputs[1], 'Sqrt', div);
    const sub = producerIf(g, d, 'Sub');
    if (!sqrt || !sub || sqrt.domain || sub.domain) return undefined;
    const addEps = producerIf(g, sqrt.inputs[0], 'Add', sqrt);
    if (!addEps || addEps.domain) return undefined;
    let variance: Node | undefined, eps: number | undefined;
    for (const k of [0, 1]) {
      const e = scalarOf(g, addEps.inputs[1 - k]);
      const v = producerIf(g, addEps.inputs[k], 'ReduceMean', addEps);
      if (e !== undefined && v && !v.domain) { variance = v; eps = e; }
    }
    if (!variance || eps === undefined) return undefined;
    const sq = producerIf(g, variance.inputs[0], ['Pow', 'Mul'], variance);
    if (!sq || sq.domain || sq.inputs[0] !== d || !(sq.opType === 'Pow' ? isConstEqual(g, sq.inputs[1], 2) : sq.inputs[1] === d)) return undefined;
    const dUsers = g.consumers(d);
    if (g.isGraphOutput(d) || dUsers.length !== 2 || !dUsers.includes(div) || !dUsers.includes(sq)) return undefined;
    const x = sub.inputs[0];
    const mean = producerIf(g, sub.inputs[1], 'ReduceMean', sub);
    const shape = g.shape(x);
    if (!mean || mean.domain || mean.inputs[0] !== x || !shape) return undefined;
    const axesOf = (n: Node) => {
      const at = attrsOf(n);
      if (at.int('keepdims', 1) !== 1) return undefined;
      const a = g.opset('') >= 18 ? (n.inputs[1] && g.constant(n.inputs[1]) ? valuesOf(g.constant(n.inputs[1])!) : undefined) : at.ints('axes', []);
      return a?.map((v) => (v < 0 ? v + shape.length : v)).sort((p, q) => p - q);
    };
    const axes = axesOf(mean);
    if (!axes || !axes.length || axesOf(variance)?.join(',') !== axes.join(',')) return undefined;
    if (axes.some((a, i) => a !== shape.length - axes.length + i)) return undefined;
    const parts = [mean, sub, sq, variance, addEps, sqrt, div];
    let out = div.outputs[0];
    let gamma: string | undefined, beta: string | undefined;
    const normShape = shape.slice(axes[0]);
    const fits = (name: string) => {
      const t = g.constant(name);
      return !!t && t.dims.length <= normShape.length && t.dims.every((v, i) => v === 1 || v === normShape[normShape.length - t.dims.length + i]);
    };
    const users = g.isGraphOutput(out) ? [] : g.consumers(out);
    if (users.length === 1 && users[0].opType === 'Mul' && !users[0].domain && fits(otherInput(users[0], out) ?? '')) {
      gamma = otherInput(users[0], out);
      parts.push(users[0]);
      out = users[0].outputs[0];
      const u2 = g.isGraphOutput(out) ? [] : g.consumers(out);
      if (u2.length === 1 && u2[0].opType === 'Add' && !u2[0].domain && fits(otherInput(u2[0], out) ?? '')) {
        beta = otherInput(u2[0], out);
        parts.push(u2[0]);
        out = u2[0].outputs[0];
      }
    }
    const inits: [string, Tensor][] = [];
    if (!gamma) {
      gamma = g.fresh(`${div.outputs[0]}.gamma`);
      inits.push([gamma, valuesOfOnes(normShape)]);
    }
    const last = parts[parts.length - 1];
    return {
      remove: parts, initializers: inits,
      add: [clean(last, parts, 'LayerNormalization', beta ? [x, gamma, beta] : [x, gamma], [out], { axis: int(axes[0]), epsilon: float(eps) })],
    };
  },
};

function valuesOfOnes(dims: number[]): Tensor {
  return new Tensor('float32', dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(1));
}

/** The pattern table. */
export const PATTERN_RULES: readonly Rule[] = [layerNorm, softmax, geluErf, geluTanh, hardSwish];
