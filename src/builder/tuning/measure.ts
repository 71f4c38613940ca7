/**
 * Timing one kernel candidate on the device: its dispatches recorded between two timestamps over
 * buffers of the layer's real sizes (inputs known at build time hold their real values, other
 * inputs a fixed pattern: floats in [-1, 1], integers 0, which is a valid index for any gather),
 * warm-up runs, then the median of several timed runs. A candidate's signature names everything
 * that decides its speed, so layers with identical signatures are timed once and the timing cache
 * can recognise them in later builds.
 */
import { createHash } from 'crypto';
import type { GpuBuffer } from '../../gpu/buffer';
import { Device } from '../../gpu/device';
import { dispatchSpecialization, type Pipeline } from '../../gpu/pipeline';
import type { Command } from '../../gpu/program';
import { ticksToMs } from '../../gpu/timing';
import type { BindingRef, KernelImpl, TensorDesc } from '../../kernel/contract';
import { gpuBytes, toGpuArray } from '../../kernel/storage';
import type { SelectionRequest } from '../selection';
import { compileDispatch } from '../shaders';

/** Measures candidates; tests inject fake timings through this seam. */
export interface CandidateTimer {
  /** Median GPU milliseconds of one run of the candidate; throws when it cannot run. */
  time(request: SelectionRequest, impl: KernelImpl, paramMode: 'spec' | 'push'): Promise<number>;
}

function descKey(t: TensorDesc | undefined): unknown {
  return t ? [t.dtype, t.gpu, t.dims, t.constant ? 'const' : 'var'] : null;
}

/** A stable hash of what decides a candidate's speed. */
export function candidateSignature(request: SelectionRequest, impl: KernelImpl, paramMode: 'spec' | 'push'): string {
  const { ctx } = request;
  const body = JSON.stringify({
    paramMode,
    inputs: ctx.inputs.map(descKey),
    outputs: ctx.outputs.map(descKey),
    dispatches: impl.dispatches.map((d) => ({
      shader: d.shader,
      source: d.source ? createHash('sha1').update(d.source).digest('hex') : undefined,
      defines: d.defines ? Object.entries(d.defines).sort(([a], [b]) => (a < b ? -1 : 1)) : undefined,
      params: d.params, workgroup: d.workgroup, groups: d.groups, bindings: d.bindings,
    })),
    weights: (impl.weights ?? []).map((w) => w.data.byteLength),
    scratch: impl.scratch ?? [],
  });
  return `${impl.name}:${createHash('sha1').update(body).digest('hex').slice(0, 20)}`;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Times candidates on a device with GPU timestamps (host time where the queue cannot time). */
export class DeviceTimer implements CandidateTimer {
  constructor(private readonly device: Device, private readonly options: { warmup?: number; runs?: number } = {}) {}

  async time(request: SelectionRequest, impl: KernelImpl, paramMode: 'spec' | 'push'): Promise<number> {
    const device = this.device;
    const { ctx } = request;
    const owned: { dispose(): void }[] = [];
    const make = (bytes: number): GpuBuffer => {
      const b = device.createBuffer(Math.max(4, bytes), 'device');
      owned.push(b);
      return b;
    };
    try {
      const inputs = new Map<number, GpuBuffer>();
      const outputs = new Map<number, GpuBuffer>();
      const scratch = new Map<number, GpuBuffer>();
      const weights = new Map<number, GpuBuffer>();
      const inputBuffer = (k: number): GpuBuffer => {
        let b = inputs.get(k);
        if (b) return b;
        const t = ctx.inputs[k]!;
        const n = t.dims.reduce((a, c) => a * c, 1);
        b = make(gpuBytes(t.gpu, n));
        if (n > 0) {
          if (t.constant) b.write(toGpuArray(t.constant, t.gpu));
          else if (t.gpu === 'f32') b.write(Float32Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 50 - 1));
          else if (t.gpu === 'f16') b.write(new Uint16Array(n).fill(0x3800)); // 0.5
          else b.write(new Uint8Array(gpuBytes(t.gpu, n))); // zeros (i32, packed codes, string ids)
        }
        inputs.set(k, b);
        return b;
      };
      const bind = (ref: BindingRef): GpuBuffer => {
        if ('input' in ref) return inputBuffer(ref.input);
        if ('output' in ref) {
          let b = outputs.get(ref.output);
          if (!b) {
            const t = ctx.outputs[ref.output];
            outputs.set(ref.output, (b = make(gpuBytes(t.gpu, t.dims.reduce((a, c) => a * c, 1)))));
          }
          return b;
        }
        if ('weight' in ref) {
          let b = weights.get(ref.weight);
          if (!b) {
            const data = impl.weights![ref.weight].data;
            b = make(data.byteLength);
            if (data.length) b.write(data);
            weights.set(ref.weight, b);
          }
          return b;
        }
        let b = scratch.get(ref.scratch);
        if (!b) scratch.set(ref.scratch, (b = make(impl.scratch![ref.scratch])));
        return b;
      };
      const cmds: Command[] = [{ op: 'timestamp', index: 0 }];
      for (const d of impl.dispatches) {
        const spirv = compileDispatch(d, paramMode);
        const declared = new Set(Device.reflectSpirv(spirv).specIds);
        const pipeline: Pipeline = device.createPipeline({
          spirv, name: `tune:${impl.name}:${d.shader}`, bindingCount: d.bindings.length,
          pushConstantSize: paramMode === 'push' ? 4 * Math.max(1, d.params.length) : 0,
          specialization: dispatchSpecialization(d.workgroup, paramMode === 'spec' ? d.params : undefined, declared),
        });
        owned.push(pipeline);
        const push = paramMode === 'push' ? new Uint32Array(d.params.length ? d.params : [0]) : undefined;
        cmds.push({ op: 'dispatch', pipeline, bindings: d.bindings.map(bind), push, groups: d.groups }, { op: 'barrier' });
      }
      cmds.push({ op: 'timestamp', index: 1 });
      const program = device.createProgram(cmds);
      owned.push(program);
      const info = device.info;
      const gpuTimed = info.timestampValidBits > 0 && info.timestampPeriodNs > 0;
      for (let i = 0; i < (this.options.warmup ?? 2); i++) await program.submit();
      const times: number[] = [];
      for (let i = 0; i < (this.options.runs ?? 7); i++) {
        const t0 = performance.now();
        await program.submit();
        if (gpuTimed) {
          const ts = program.timestamps();
          times.push(ticksToMs(ts[0], ts[1], info.timestampPeriodNs, info.timestampValidBits));
        } else times.push(performance.now() - t0);
      }
      return median(times);
    } finally {
      for (const o of owned.reverse()) o.dispose();
    }
  }
}
