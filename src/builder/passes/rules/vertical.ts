/**
 * Vertical fusion: a layer absorbs what follows it. Conv + BatchNormalization folds into the
 * weights; Conv/ConvTranspose/Gemm/MatMul + activation become one kernel with the activation in its
 * epilogue (src/ops/nn/gpu/epilogue.ts); Conv + residual Add runs the Add in the epilogue; Pad
 * moves into Conv's pads; two clamping activations compose into one.
 */
import { Attr, Node } from '../../../ir/graph';
import { ACTIVATIONS, EPILOGUE_ATTRS } from '../../../ops/nn/gpu/epilogue';
import { fusedNode, GraphView, Rewrite, Rule } from '../rule';
import { attrsOf, f32, float, ints, isF32, producerIf, scalarOf, str, valuesOf } from '../util';
import { scaleConv } from './simplify';

/** Layers with an epilogue: the activation (and for Conv the residual) run in their kernel. */
const hasEpilogue = (n: Node, g: GraphView): boolean => !!g.registry.traits(n).epilogue;

/** Conv + BatchNormalization (inference): the normalization folds into W and B per output channel. */
export const convBatchNorm: Rule = {
  name: 'conv-batchnorm',
  ops: ['BatchNormalization'],
  match(bn, g) {
    if (bn.outputs.slice(1).some((o) => o && (g.consumers(o).length || g.isGraphOutput(o)))) return undefined;
    if (attrsOf(bn).int('training_mode', 0) !== 0) return undefined;
    const conv = producerIf(g, bn.inputs[0], 'Conv', bn);
    if (!conv || conv.domain || conv.attrs.has(EPILOGUE_ATTRS.activation) || conv.inputs.length > 3) return undefined;
    if (!g.constant(conv.inputs[1]) || (conv.inputs[2] && !g.constant(conv.inputs[2])) || !isF32(g, conv.inputs[1])) return undefined;
    const [scale, bias, mean, variance] = bn.inputs.slice(1, 5).map((i) => (i ? g.constant(i) : undefined));
    if (!scale || !bias || !mean || !variance) return undefined;
    const M = g.constant(conv.inputs[1])!.dims[0];
    if ([scale, bias, mean, variance].some((t) => t.size !== M)) return undefined;
    const eps = attrsOf(bn).float('epsilon', 1e-5);
    const sc = valuesOf(scale), bi = valuesOf(bias), mu = valuesOf(mean), va = valuesOf(variance);
    const s = sc.map((v, m) => v / Math.sqrt(va[m] + eps));
    const r = scaleConv(g, conv, s, bi.map((v, m) => v - mu[m] * s[m]));
    const w = g.fresh(`${conv.inputs[1]}.bn`), b = g.fresh(`${conv.outputs[0]}.bn_bias`);
    return {
      remove: [conv, bn], initializers: [[w, r.w], [b, r.b]],
      add: [fusedNode(conv, [conv, bn], { inputs: [conv.inputs[0], w, b], outputs: [bn.outputs[0]] })],
    };
  },
};

/** The epilogue activation an activation node computes: name and parameters, or undefined. */
export function activationOf(node: Node, g: GraphView): { kind: string; alpha?: number; beta?: number } | undefined {
  if (node.domain !== '' && node.domain !== 'vkrt') return undefined;
  const at = attrsOf(node);
  switch (node.opType) {
    case 'Relu': case 'Sigmoid': case 'Tanh': case 'HardSwish': case 'Mish': return { kind: node.opType };
    case 'LeakyRelu': return { kind: 'LeakyRelu', alpha: at.float('alpha', 0.01) };
    case 'Elu': return { kind: 'Elu', alpha: at.float('alpha', 1) };
    case 'HardSigmoid': return { kind: 'HardSigmoid', alpha: at.float('alpha', 0.2), beta: at.float('beta', 0.5) };
    case 'Gelu': return { kind: at.string('approximate', 'none') === 'tanh' ? 'GeluTanh' : 'Gelu' };
    case 'Clip': {
      if (node.domain === '' && g.opset('') < 11) return { kind: 'Clip', alpha: at.float('min', -3.4028234663852886e38), beta: at.float('max', 3.4028234663852886e38) };
      const lo = node.inputs[1] ? scalarOf(g, node.inputs[1]) : -Infinity;
      const hi = node.inputs[2] ? scalarOf(g, node.inputs[2]) : Infinity;
      if (lo === undefined || hi === undefined) return undefined;
      return { kind: 'Clip', alpha: Math.max(lo, -3.4028234663852886e38), beta: Math.min(hi, 3.4028234663852886e38) };
    }
  }
  return undefined;
}

/** The epilogue attributes of an activation (EPILOGUE_ATTRS). */
export function activationAttrs(a: { kind: string; alpha?: number; beta?: number }): Record<string, Attr | undefined> {
  return { [EPILOGUE_ATTRS.activation]: str(a.kind), [EPILOGUE_ATTRS.alpha]: a.alpha === undefined ? undefined : float(a.alpha), [EPILOGUE_ATTRS.beta]: a.beta === undefined ? undefined : float(a.beta) };
}

function epilogueLayer(g: GraphView, name: string, user: Node): Node | undefined {
  const p = producerIf(g, name, hasEpilogue, user);
  if (!p || p.domain || p.attrs.has(EPILOGUE_ATTRS.activation) || !isF32(g, p.outputs[0])) return undefined;
  return p;
}

/** Layer + activation: the activation runs in the layer's epilogue. */
export const layerActivation: Rule = {
  name: 'layer-activation',
  ops: ['Relu', 'Clip', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Elu', 'Gelu', 'Mish',
    'vkrt::Gelu', 'vkrt::HardSwish', 'vkrt::Mish'],
  match(act, g) {
    const a = activationOf(act, g);
    const layer = a && ACTIVATIONS.includes(a.kind) ? epilogueLayer(g, act.inputs[0], act) : undefined;
    if (!a || !layer) return undefined;
    return { remove: [layer, act], add: [fusedNode(layer, [layer, act], { outputs: act.outputs, attrs: activationAttrs(a) })] };
  },
};

/**
 * Activation(Reshape(layer)) -> Reshape(Activation(layer)): an elementwise activation commutes with
 * a Reshape, and moved next to the layer it runs in the layer's epilogue (the batched MatMul + bias
 * of a transformer becomes Reshape -> Gemm -> Reshape, with its GELU after the second Reshape).
 */
export const activationThroughReshape: Rule = {
  name: 'activation-through-reshape',
  ops: layerActivation.ops,
  match(act, g) {
    const a = activationOf(act, g);
    const rs = a && ACTIVATIONS.includes(a.kind) ? producerIf(g, act.inputs[0], 'Reshape', act) : undefined;
    if (!rs || rs.domain || !epilogueLayer(g, rs.inputs[0], rs)) return undefined;
    const moved = g.fresh(`${act.outputs[0]}.before_reshape`);
    return {
      remove: [rs, act],
      add: [
        new Node({ name: act.name, opType: act.opType, domain: act.domain, inputs: [rs.inputs[0], ...act.inputs.slice(1)], outputs: [moved], attrs: new Map(act.attrs) }),
        new Node({ name: rs.name, opType: 'Reshape', inputs: [moved, ...rs.inputs.slice(1)], outputs: act.outputs, attrs: new Map(rs.attrs) }),
      ],
      types: [[moved, g.type(rs.inputs[0])!]],
    };
  },
};

/** Layer + x * Sigmoid(x) (SiLU as exporters write it): the Silu epilogue. */
export const layerSilu: Rule = {
  name: 'layer-silu',
  ops: ['Mul'],
  match(mul, g) {
    for (const k of [0, 1]) {
      const x = mul.inputs[1 - k];
      const sig = producerIf(g, mul.inputs[k], 'Sigmoid', mul);
      if (!sig || sig.inputs[0] !== x || g.isGraphOutput(x)) continue;
      const layer = producerIf(g, x, hasEpilogue);
      const users = g.consumers(x);
      if (!layer || layer.domain || layer.attrs.has(EPILOGUE_ATTRS.activation) || !isF32(g, x) || users.length !== 2 || !users.includes(sig) || !users.includes(mul)) continue;
      return { remove: [layer, sig, mul], add: [fusedNode(layer, [layer, sig, mul], { outputs: mul.outputs, attrs: activationAttrs({ kind: 'Silu' }) })] };
    }
    return undefined;
  },
};

/** Conv + Add of a tensor of the output's shape (ResNet, MobileNetV2): the residual in the epilogue. */
export const convResidual: Rule = {
  name: 'conv-residual-add',
  ops: ['Add'],
  match(add, g) {
    for (const k of [0, 1]) {
      const conv = epilogueLayer(g, add.inputs[k], add);
      const r = add.inputs[1 - k];
      if (!conv || conv.opType !== 'Conv' || conv.inputs.length > 3 || r === add.inputs[k]) continue;
      const out = g.shape(conv.outputs[0]);
      if (!out || g.shape(r)?.join(',') !== out.join(',') || !isF32(g, r)) continue;
      const inputs = [conv.inputs[0], conv.inputs[1], conv.inputs[2] ?? '', r];
      return { remove: [conv, add], add: [fusedNode(conv, [conv, add], { inputs, outputs: add.outputs })] };
    }
    return undefined;
  },
};

/** Pad with zeros on the spatial axes before a Conv: Conv's own pads. */
export const padConv: Rule = {
  name: 'pad-conv',
  ops: ['Conv'],
  match(conv, g) {
    const pad = producerIf(g, conv.inputs[0], 'Pad', conv);
    if (!pad || pad.domain) return undefined;
    const pat = attrsOf(pad), cat = attrsOf(conv);
    if (pat.string('mode', 'constant') !== 'constant' || cat.string('auto_pad', 'NOTSET') !== 'NOTSET') return undefined;
    const old = g.opset('') < 11;
    const pads = old ? pat.ints('pads', []) : pad.inputs[1] && g.constant(pad.inputs[1]) ? valuesOf(g.constant(pad.inputs[1])!) : undefined;
    const value = old ? pat.float('value', 0) : pad.inputs[2] ? scalarOf(g, pad.inputs[2]) : 0;
    if (!pads || value !== 0 || pad.inputs[3]) return undefined;
    const rank = pads.length / 2, nsp = rank - 2;
    if (rank < 3 || pads.some((p) => p < 0) || pads[0] || pads[1] || pads[rank] || pads[rank + 1]) return undefined;
    const cp = cat.ints('pads', new Array<number>(2 * nsp).fill(0));
    const merged = cp.map((p, i) => p + (i < nsp ? pads[2 + i] : pads[rank + 2 + (i - nsp)]));
    return { remove: [pad, conv], add: [fusedNode(conv, [pad, conv], { inputs: [pad.inputs[0], ...conv.inputs.slice(1)], attrs: { pads: ints(merged) } })] };
  },
};

/** A clamp interval of Relu or a Clip with constant bounds. */
function clampOf(node: Node, g: GraphView): [number, number] | undefined {
  if (node.opType === 'Relu') return [0, Infinity];
  const a = node.opType === 'Clip' ? activationOf(node, g) : undefined;
  return a ? [a.alpha!, a.beta!] : undefined;
}

/**
 * One step up a chain of clamps: the producer of `node` when it is a plain f32 Relu/Clip read by
 * `node` alone and the intervals still intersect, with the intersection.
 */
function clampAbove(node: Node, range: [number, number], g: GraphView): { first: Node; range: [number, number] } | undefined {
  const first = producerIf(g, node.inputs[0], ['Relu', 'Clip'], node);
  const c1 = first && !first.domain && !node.domain && isF32(g, node.inputs[0]) ? clampOf(first, g) : undefined;
  if (!first || !c1) return undefined;
  const lo = Math.max(c1[0], range[0]), hi = Math.min(c1[1], range[1]);
  return lo > hi ? undefined : { first, range: [lo, hi] };
}

/**
 * Relu/Clip after Relu/Clip: one clamp over the intersection of the intervals. A chain of clamps
 * is fused in one rewrite, from its last clamp (a clamp whose reader would take it waits for that
 * reader), so a long chain costs its length, not its length squared.
 */
export const activationActivation: Rule = {
  name: 'activation-activation',
  ops: ['Relu', 'Clip'],
  match(last, g) {
    const c2 = clampOf(last, g);
    if (!c2 || last.domain) return undefined;
    const out = last.outputs[0];
    const users = out && !g.isGraphOutput(out) ? g.consumers(out) : [];
    if (users.length === 1 && (users[0].opType === 'Relu' || users[0].opType === 'Clip')) {
      const cu = clampOf(users[0], g);
      if (cu && clampAbove(users[0], cu, g)?.first === last) return undefined;
    }
    const parts = [last];
    let range = c2;
    for (let up = clampAbove(last, range, g); up; up = clampAbove(up.first, range, g)) {
      parts.push(up.first);
      range = up.range;
    }
    if (parts.length < 2) return undefined;
    parts.reverse();
    const [lo, hi] = range;
    let fused: Node;
    const rw: Rewrite = { remove: parts };
    const input = parts[0].inputs[0];
    if (lo === 0 && hi === Infinity) fused = fusedNode(last, parts, { opType: 'Relu', inputs: [input], attrs: { min: undefined, max: undefined } });
    else if (g.opset('') < 11) fused = fusedNode(last, parts, { opType: 'Clip', inputs: [input], attrs: { min: float(lo), max: float(hi) } });
    else {
      const lN = g.fresh(`${out}.min`), hN = g.fresh(`${out}.max`);
      rw.initializers = [[lN, f32([], [lo])], [hN, f32([], [hi])]];
      fused = fusedNode(last, parts, { opType: 'Clip', inputs: [input, lN, hN] });
    }
    rw.add = [fused];
    return rw;
  },
};

/** The vertical fusion table (residual before activation: the epilogue adds, then activates). */
export const VERTICAL_RULES: readonly Rule[] = [convBatchNorm, padConv, convResidual, layerSilu, layerActivation, activationThroughReshape];
