/**
 * The graph optimizer: the order of passes, decided here and nowhere else, and the entry point the
 * builder calls. It works on a copy of the model (the caller's graph is never changed):
 *
 *  0. quantization  Q/DQ pairs around Conv, Gemm, MatMul, MaxPool fold into integer layers (before
 *                  constant folding turns the weights' DequantizeLinear into float weights)
 *  1. simplify     constant folding, dead code, Identity/Dropout, shape-op chains, no-op ops,
 *                  clamp after clamp (before the epilogue rules take the first one)
 *  2. patterns     LayerNormalization, Softmax, GELU (erf, tanh), HardSwish rebuilt from their parts;
 *                  scaled-dot-product attention (MatMul, scale, mask, Softmax, MatMul) -> Attention
 *  3. vertical     Conv+BN, Scale (per-channel Mul/Add), MatMul+Add -> Gemm, Pad+Conv,
 *                  Conv+residual Add, layer + activation (epilogue)
 *  4. pointwise    chains of elementwise ops -> one generated kernel
 *  5. horizontal   sibling 1x1 Conv / Gemm heads -> one wider layer + Split (views in the builder)
 *  6. cleanup      dead code, unused initializers
 *
 * Patterns run before the vertical pass so Scale fusion cannot swallow the Mul of a GELU; the
 * epilogue rules run before pointwise fusion so an activation lands in its layer when it can.
 * Concat elimination is a builder decision (subviews.ts): it needs the arena layout.
 */
import { cloneModel, Model, ValueType } from '../../ir/graph';

export { cloneModel };
import { inferShapes } from '../../ops/infer-shapes';
import { OpRegistry } from '../../ops/registry';
import { DriverOptions, GraphState, RuleCounts, runPass } from './driver';
import { Pass, VKRT_DOMAIN } from './rule';
import { ATTENTION_RULES } from './rules/attention';
import { HORIZONTAL_RULES } from './rules/horizontal';
import { PATTERN_RULES } from './rules/patterns';
import { POINTWISE_RULES } from './rules/pointwise';
import { QDQ_RULES } from './rules/qdq';
import { deadCode, dropUnusedInitializers, SCALE_RULES, SIMPLIFY_RULES } from './rules/simplify';
import { activationActivation, convBatchNorm, VERTICAL_RULES } from './rules/vertical';

/**
 * The float model an INT8 build calibrates and quantizes (TensorRT folds BatchNormalization into
 * the weights before quantizing them): constant folding, Identity/Dropout removal, Conv +
 * BatchNormalization, per-channel scales and biases into Conv/Gemm and MatMul + Add -> Gemm only,
 * so the result is still a plain ONNX model (no vkrt-internal nodes).
 */
export const QUANTIZATION_PREP: readonly Pass[] = [
  { name: 'simplify', rules: SIMPLIFY_RULES },
  { name: 'batchnorm', rules: [convBatchNorm, ...SCALE_RULES] },
  { name: 'cleanup', rules: [deadCode] },
  { name: 'unused-initializers', run: (g) => dropUnusedInitializers(g) },
];

/** The passes, in order. */
export const PASSES: readonly Pass[] = [
  { name: 'quantization', rules: QDQ_RULES },
  { name: 'simplify', rules: [...SIMPLIFY_RULES, activationActivation] },
  { name: 'patterns', rules: [...PATTERN_RULES, ...ATTENTION_RULES] },
  { name: 'vertical', rules: [...SCALE_RULES, ...VERTICAL_RULES] },
  { name: 'pointwise', rules: POINTWISE_RULES },
  { name: 'horizontal', rules: HORIZONTAL_RULES },
  { name: 'cleanup', rules: [deadCode] },
  { name: 'unused-initializers', run: (g) => dropUnusedInitializers(g) },
];

export interface OptimizeOptions {
  registry: OpRegistry;
  /** Concrete types of the graph inputs (the builder's --shapes). */
  inputTypes?: Map<string, ValueType>;
  /** Verify the graph after every pass (default: when VKRT_DEBUG is set). */
  verify?: boolean;
  log?(line: string): void;
  /** Run only these passes (tests); default all. */
  passes?: readonly string[];
  /** Another pass list (default PASSES). */
  passList?: readonly Pass[];
  /** See GraphView.slices. */
  slices?: { alignment: number; elemBytes: number };
}

export interface OptimizeResult {
  model: Model;
  /** Matches per rule (and per whole-graph pass). */
  counts: RuleCounts;
}


/**
 * Optimize a copy of `model`: the passes above, each to a fixpoint. Fused nodes carry their parts'
 * names (`conv1+bn1+relu1`) and op types (attribute vkrt_fused).
 */
export function optimize(model: Model, options: OptimizeOptions): OptimizeResult {
  const m = cloneModel(model);
  const g = m.graph;
  const hasInternal = !!options.registry.get(VKRT_DOMAIN, 'FusedElementwise');
  if (hasInternal) m.opsets.set(VKRT_DOMAIN, 1);
  if (!g.isSorted()) g.topoSort();
  const types = new Map<string, ValueType>();
  // VKRT_DEBUG: verify after every pass and print what fused to stderr
  const debug = !!process.env.VKRT_DEBUG;
  const log = (line: string) => {
    options.log?.(line);
    if (debug) process.stderr.write(`[vkrt] ${line}\n`);
  };
  const opts: DriverOptions = { registry: options.registry, opsets: m.opsets, types, verify: options.verify ?? debug, log, slices: options.slices };
  const state = new GraphState(g, opts);
  const counts: RuleCounts = new Map();
  const before = g.nodes.length;
  for (const pass of options.passList ?? PASSES) {
    if (options.passes && !options.passes.includes(pass.name)) continue;
    if (!hasInternal && (pass.name === 'patterns' || pass.name === 'pointwise')) continue;
    // fresh types for every pass: rewrites rename values, and shape inference is cheap
    types.clear();
    for (const [k, v] of inferShapes(g, m.opsets, { registry: options.registry, inputTypes: options.inputTypes }).types) types.set(k, v);
    state.invalidate();
    runPass(state, pass, counts, opts);
  }
  if (counts.size) {
    log(`fusion: ${before} nodes -> ${g.nodes.length}; ${[...counts].map(([k, v]) => `${k} x${v}`).join(', ')}`);
  }
  return { model: m, counts };
}
