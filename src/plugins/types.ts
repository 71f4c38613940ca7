/**
 * The plugin contract (TensorRT's IPluginV3, in TypeScript): an operator vkrt lacks, or a
 * replacement for one it has, defined by its shape function, an optional reference, and a kernel
 * that returns the same dispatch descriptors as built-in operators (src/kernel/contract.ts), with
 * its GLSL compiled when an engine is built. See docs/plugins.md.
 */
import type { ValueType } from '../ir/graph';
import type { Tensor } from '../ir/tensor';
import type { KernelContext, KernelImpl } from '../kernel/contract';
import type { OpContext, ShapeContext } from '../ops/types';

/** Storage precisions a plugin's kernels can run in. */
export type PluginPrecision = 'fp32' | 'fp16';

/**
 * Tensor layouts a plugin's kernels accept. vkrt keeps every tensor in one layout, dense row-major
 * (NCHW for images), called 'linear' here; the field exists so a plugin states what it assumes.
 */
export type PluginLayout = 'linear';

export interface PluginDef {
  /** The plugin's name, recorded in engines and named in errors; default `<domain>::<opType>`. */
  name?: string;
  /** The plugin's version (free text, e.g. '1.0.0'), recorded in engines beside its name. */
  version: string;
  /**
   * The operator's domain as the model writes it: a custom domain (`com.example`, the domain a
   * torch.onnx custom symbolic exports), or '' / 'ai.onnx' with `replaces: true` to replace a
   * built-in ONNX operator.
   */
  domain: string;
  /** The operator's type, verbatim (`SwiGLU`). */
  opType: string;
  /**
   * The opset versions of `domain` this plugin implements: one version, or [first, last] (last
   * omitted: no upper bound). Default: every version.
   */
  versions?: number | readonly [number, number?];
  /** Must be true to replace an operator vkrt implements (a guard against accidental shadowing). */
  replaces?: boolean;
  /**
   * Output types from input types (inputs that are '' come as undefined; `ctx.constant(i)` gives
   * an input's value when it is known at build time). Throwing here is reported naming the plugin.
   */
  inferShape(ctx: ShapeContext, inputs: readonly (ValueType | undefined)[]): ValueType[];
  /**
   * The outputs computed on the CPU (the reference interpreter, `vkrt compare`, constant folding).
   * Optional: without it the operator runs on the GPU only.
   */
  reference?(ctx: OpContext, inputs: readonly (Tensor | undefined)[]): Tensor[];
  /**
   * The kernel's candidate implementations (tactics) for a node, best first: the builder's kernel
   * selection policy picks one, as for built-in operators. Each dispatch carries its GLSL in
   * `source` (it may `#include "vkrt.glsl"` and the other headers under shaders/common).
   */
  kernel(ctx: KernelContext): KernelImpl | KernelImpl[];
  /**
   * Precisions the kernels honour (default ['fp32']). With 'fp16', an FP16 engine gives the kernel
   * f16 tensors (`ctx.inputs[i].gpu === 'f16'`) and compiles it with VKRT_F16 (FT is float16_t);
   * without it, the layer runs in FP32 inside FP16 engines.
   */
  precisions?: readonly PluginPrecision[];
  /** Layouts the kernels accept (default ['linear'], the only one vkrt has). */
  layouts?: readonly PluginLayout[];
}

/** What an engine records about a plugin it uses: defined with the plan (src/kernel/plan.ts). */
export type { PluginRecord } from '../kernel/plan';
