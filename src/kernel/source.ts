/**
 * Records what produced a layer (LayerSource in plan.ts): the builder calls these as it plans each
 * layer, and src/runtime/plan-verify.ts reads the record back to derive the layer again on load.
 */
import type { Node } from '../ir/graph';
import type { DType } from '../ir/dtype';
import type { TensorDesc } from './contract';
import type { LayerSource, SourceTensor } from './plan';
import type { GpuType } from './storage';

/** A kernel-context descriptor as it is recorded (no undefined fields; dims copied). */
export function sourceTensor(t: TensorDesc): SourceTensor;
export function sourceTensor(t: TensorDesc | undefined): SourceTensor | undefined;
export function sourceTensor(t: TensorDesc | undefined): SourceTensor | undefined {
  if (!t) return undefined;
  return t.constant ? { dtype: t.dtype, gpu: t.gpu, dims: [...t.dims], constant: t.constant } : { dtype: t.dtype, gpu: t.gpu, dims: [...t.dims] };
}

/**
 * The source of an operator layer.
 * @param inputTensors per input index, the tensor its bindings use ('' or undefined where unbound).
 */
export function opSource(node: Node, opset: number, inputs: readonly (TensorDesc | undefined)[], outputs: readonly TensorDesc[], inputTensors: readonly (string | undefined)[]): LayerSource {
  return {
    node: { name: node.name, domain: node.domain, opType: node.opType, opset, attrs: new Map(node.attrs), inputs: [...node.inputs], outputs: [...node.outputs] },
    inputs: inputs.map((t) => sourceTensor(t)),
    outputs: outputs.map((t) => sourceTensor(t)),
    inputTensors: node.inputs.map((_, k) => inputTensors[k] ?? ''),
    outputTensors: [...node.outputs],
  };
}

/** The source of a storage conversion layer (FP16 engines) from `input` to `output`. */
export function conversionSource(dtype: DType, dims: readonly number[], from: GpuType, to: GpuType, input: string, output: string): LayerSource {
  return {
    convert: { from, to },
    inputs: [{ dtype, gpu: from, dims: [...dims] }],
    outputs: [{ dtype, gpu: to, dims: [...dims] }],
    inputTensors: [input],
    outputTensors: [output],
  };
}

/** Renames a source's tensors to the tensors that own the bytes (once the builder resolved views). */
export function resolveSource(source: LayerSource | undefined, rootOf: (name: string) => string): void {
  if (!source) return;
  source.inputTensors = source.inputTensors.map((n) => (n ? rootOf(n) : ''));
  source.outputTensors = source.outputTensors.map((n) => (n ? rootOf(n) : ''));
}
