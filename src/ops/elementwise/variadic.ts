/** Sum, Mean, Max, Min: variadic ops that fold a binary scalar over all inputs, with broadcasting. */
import { isBigInt, isFloat } from '../../ir/dtype';
import { allocData, Tensor, TensorData } from '../../ir/tensor';
import { OpDef, RuntimeValue } from '../types';
import { broadcastOrFail, checkSize, expectType, indexMap, inferBroadcast, requiredInput, roundStored, typeOf } from './driver';
import { ELEMENTWISE_SCALAR, FLOATS, NUMERIC } from './scalar-table';

function variadicOp(opType: 'Sum' | 'Mean' | 'Max' | 'Min'): OpDef {
  const desc = ELEMENTWISE_SCALAR[opType === 'Sum' || opType === 'Mean' ? 'Add' : opType];
  return {
    opType,
    traits: { elementwise: true },
    inferShape(ctx, inputs) {
      if (inputs.length === 0) ctx.fail('needs at least one input');
      const ts = inputs.map((_, i) => typeOf(ctx, inputs, i));
      return [{ dtype: ts[0].dtype, shape: inferBroadcast(ctx, ts.map((t) => t.shape)) }];
    },
    reference(ctx, inputs): RuntimeValue[] {
      if (inputs.length === 0) ctx.fail('needs at least one input');
      const ts = inputs.map((_, i) => requiredInput(ctx, inputs, i));
      const dtype = ts[0].dtype;
      // Max/Min take integers since opset 12; Sum/Mean are float-only.
      expectType(ctx, 'input 0', dtype, (opType === 'Max' || opType === 'Min') && ctx.opset >= 12 ? NUMERIC : FLOATS);
      for (const t of ts) if (t.dtype !== dtype) ctx.fail(`inputs must share one dtype, got ${dtype} and ${t.dtype}`);
      const outDims = broadcastOrFail(ctx, ts.map((t) => t.dims));
      const n = checkSize(ctx, outDims);
      const maps = ts.map((t) => indexMap(t.dims, outDims));
      if (isBigInt(dtype)) {
        const fn = desc.big!;
        const acc = allocData(dtype, n) as BigInt64Array | BigUint64Array;
        const d0 = ts[0].data as BigInt64Array, m0 = maps[0];
        for (let k = 0; k < n; k++) acc[k] = d0[m0 ? m0[k] : k];
        for (let j = 1; j < ts.length; j++) {
          const d = ts[j].data as BigInt64Array, m = maps[j];
          for (let k = 0; k < n; k++) acc[k] = fn(acc[k], d[m ? m[k] : k], {});
        }
        return [new Tensor(dtype, outDims, acc)];
      }
      const fn = (isFloat(dtype) ? desc.f : desc.i)!;
      const acc = new Float64Array(n); // accumulate in double; rounded once on store
      const d0 = ts[0].data as Float32Array, m0 = maps[0];
      for (let k = 0; k < n; k++) acc[k] = d0[m0 ? m0[k] : k];
      for (let j = 1; j < ts.length; j++) {
        const d = ts[j].data as Float32Array, m = maps[j];
        for (let k = 0; k < n; k++) acc[k] = fn(acc[k], d[m ? m[k] : k], {});
      }
      if (opType === 'Mean') for (let k = 0; k < n; k++) acc[k] /= ts.length;
      const out = allocData(dtype, n) as Float32Array;
      out.set(acc);
      roundStored(dtype, out as TensorData);
      return [new Tensor(dtype, outDims, out)];
    },
  };
}

export const VARIADIC_OPS: OpDef[] = [variadicOp('Sum'), variadicOp('Mean'), variadicOp('Max'), variadicOp('Min')];
