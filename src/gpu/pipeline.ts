import { InputError } from '../errors';
import type { NativePipeline } from '../native';

/** A specialization constant: a value fixed when the pipeline is built (shape facts, flags). */
export interface SpecConstant {
  /** `constant_id` in the GLSL (`layout(constant_id = N)`), `local_size_x_id` included. */
  id: number;
  type: 'int' | 'uint' | 'float' | 'bool';
  value: number | boolean;
}

/** What a compute pipeline is built from. */
export interface PipelineDesc {
  /** SPIR-V words (from {@link loadSpirv} or {@link Device.compileGlsl}). */
  spirv: Uint32Array;
  /** Names the pipeline in errors and profiles. */
  name?: string;
  entryPoint?: string;
  /** Storage buffers at set 0, bindings 0..bindingCount-1. */
  bindingCount: number;
  /** Bytes of push constants every dispatch passes (multiple of 4; default 0). */
  pushConstantSize?: number;
  specialization?: readonly SpecConstant[];
}

/** Packs specialization constants into the (id, 32-bit bits) pairs the addon takes. */
export function packSpecialization(spec: readonly SpecConstant[]): Uint32Array {
  const out = new Uint32Array(spec.length * 2);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  spec.forEach((s, i) => {
    if (!Number.isInteger(s.id) || s.id < 0 || s.id > 0xffffffff)
      throw new InputError(`specialization constant id must be a non-negative integer, got ${s.id}`);
    let bits: number;
    const v = s.value;
    const bad = () => new InputError(`specialization constant ${s.id}: ${String(v)} is not a valid ${s.type}`);
    switch (s.type) {
      case 'bool':
        if (typeof v !== 'boolean') throw bad();
        bits = v ? 1 : 0;
        break;
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw bad();
        bits = v >>> 0;
        break;
      case 'uint':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad();
        bits = v;
        break;
      case 'float':
        if (typeof v !== 'number') throw bad();
        f32[0] = v;
        bits = u32[0];
        break;
      default:
        throw new InputError(`specialization constant ${s.id}: unknown type '${String((s as SpecConstant).type)}'`);
    }
    out[2 * i] = s.id;
    out[2 * i + 1] = bits;
  });
  return out;
}

/** A compute pipeline. Lifetime: dispose(); programs that recorded it keep it alive. */
export class Pipeline {
  readonly name: string;
  readonly bindingCount: number;
  readonly pushConstantSize: number;

  /** @internal */
  constructor(readonly native: NativePipeline) {
    const d = native.describe();
    this.name = d.name;
    this.bindingCount = d.bindingCount;
    this.pushConstantSize = d.pushConstantSize;
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Idempotent. */
  dispose(): void {
    this.native.dispose();
  }
}

/**
 * The specialization constants of a dispatch: the workgroup size (ids 100-102) and, when params
 * travel as specialization constants, param k as id k; only the ids the module declares (the
 * compiler drops constants a shader never reads, see Device.reflectSpirv).
 */
export function dispatchSpecialization(workgroup: readonly number[], specParams: readonly number[] | undefined, declared: ReadonlySet<number>): SpecConstant[] {
  const spec: SpecConstant[] = workgroup.map((v, k) => ({ id: 100 + k, type: 'uint' as const, value: v }));
  specParams?.forEach((v, k) => spec.push({ id: k, type: 'uint', value: v >>> 0 }));
  return spec.filter((s) => declared.has(s.id));
}
