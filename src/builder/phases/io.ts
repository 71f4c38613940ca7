/**
 * Phase 5, engine inputs and outputs: f16 results converted back (model outputs keep their ONNX
 * types), views resolved to the tensors that own their bytes, the engine's I/O list, and outputs
 * known at build time returned as constants.
 */
import { GraphError, ShapeError, UnsupportedError } from '../../errors';
import type { EngineIO } from '../../kernel/plan';
import { gpuBytes, gpuTypeOf, isByte } from '../../kernel/storage';
import { isStatic } from '../../ops/infer-shapes';
import { resolveSource } from '../../kernel/source';
import { BuildState, rootOf } from '../state';
import { convert } from './kernels';
import { convertPieces } from './big-tensors';

export function resolveIO(state: BuildState): void {
  const { types, constants, tensors, prec } = state;
  const g = state.model.graph;
  if (prec.enabled) {
    for (const o of g.outputs) {
      const t = types.get(o);
      if (!t || constants.has(o) || gpuTypeOf(t.dtype) !== 'f32' || !isStatic(t.shape)) continue;
      if (prec.storageOf(o, t) !== 'f16') continue;
      state.outputOverride.set(o, convertWhole(state, o, { dtype: t.dtype, gpu: 'f32', dims: t.shape as number[] }, 'f16', 'f32'));
    }
  }
  // int8/uint8 results held as bytes: the engine's outputs keep int32 storage
  for (const o of g.outputs) {
    const t = types.get(o);
    if (!t || constants.has(o) || gpuTypeOf(t.dtype) !== 'i32' || !isStatic(t.shape)) continue;
    const have = prec.storageOf(o, t);
    if (isByte(have)) state.outputOverride.set(o, convertWhole(state, o, { dtype: t.dtype, gpu: 'i32', dims: t.shape as number[] }, have, 'i32'));
  }
  prec.summarize(state.layers);
  const root = (n: string) => rootOf(state, n);
  for (const l of state.layers) {
    for (const d of l.dispatches) for (const b of d.bindings) if ('tensor' in b) b.tensor = root(b.tensor);
    l.inputs = l.inputs.map(root);
    l.outputs = l.outputs.map(root);
    resolveSource(l.source, root);
  }
  const io = (name: string): EngineIO => {
    const t = types.get(name)!;
    return { name, dtype: t.dtype, dims: t.shape as number[], gpu: gpuTypeOf(t.dtype)! };
  };
  state.inputs = state.realInputs.map(io);
  for (const i of state.inputs) {
    if (!tensors.has(i.name)) tensors.set(i.name, { name: i.name, dtype: i.dtype, gpu: i.gpu, dims: i.dims, bytes: gpuBytes(i.gpu, i.dims.reduce((a, b) => a * b, 1)), kind: 'input', offset: -1 });
    tensors.get(i.name)!.kind = 'input';
  }
  for (const o of g.outputs) {
    const r = outputRoot(state, o);
    if (constants.has(r) && !tensors.has(r)) {
      state.constantOutputs.set(o, constants.get(r)!.reshape((types.get(o)?.shape as number[]) ?? constants.get(r)!.dims));
      continue;
    }
    const t = types.get(o);
    if (!t || !isStatic(t.shape)) throw new ShapeError(`the shape of output '${o}' is not known at build time`);
    if (!tensors.has(r)) throw new GraphError(`output '${o}' is not computed by any layer`);
    if (tensors.get(r)!.kind === 'activation') tensors.get(r)!.kind = 'output';
    if (t.dtype === 'string') throw new UnsupportedError(`output '${o}' is a string tensor: the GPU holds strings only as ids, which are not read back`);
    state.outputs.push({ ...io(o), name: o });
  }
}

/** A conversion layer for the whole tensor, or one per piece where it was written in pieces (big tensors). */
function convertWhole(state: BuildState, name: string, desc: Parameters<typeof convert>[2], from: Parameters<typeof convert>[3], to: Parameters<typeof convert>[4]): string {
  return convertPieces(state, rootOf(state, name), desc, from, to) ?? convert(state, name, desc, from, to);
}

/** The tensor that holds a graph output's bytes. */
export function outputRoot(state: BuildState, name: string): string {
  return state.outputOverride.get(name) ?? rootOf(state, name);
}
