/** The native test shaders (shaders/native/*.comp) wrapped for tests. */
import { Device, Pipeline, loadSpirv } from '../../src/gpu';

/** y[i] = x[i] * A + B; A is specialization constant 1, (n, B) are push constants. */
export function scaleBiasPipeline(device: Device, a: number, localSize = 64): Pipeline {
  return device.createPipeline({
    spirv: loadSpirv('native/scale_bias'),
    name: `scale_bias(A=${a})`,
    bindingCount: 2,
    pushConstantSize: 8,
    specialization: [
      { id: 0, type: 'uint', value: localSize },
      { id: 1, type: 'float', value: a },
    ],
  });
}

export function scaleBiasPush(n: number, b: number): DataView {
  const push = new DataView(new ArrayBuffer(8));
  push.setUint32(0, n, true);
  push.setFloat32(4, b, true);
  return push;
}

/** CPU reference of scale_bias in float32. */
export function scaleBiasRef(x: Float32Array, a: number, b: number): Float32Array {
  return x.map((v) => Math.fround(Math.fround(v * Math.fround(a)) + Math.fround(b)));
}

/** The busy-loop hash of shaders/native/busy_loop.comp on the CPU (`steps` = 16 x its iterations). */
export function busyLoopRef(i: number, steps: number): number {
  let h = i >>> 0;
  for (let k = 0; k < steps; k++) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}
