/**
 * The arena or the weights of an engine as one or several device buffers (docs/big-tensors.md): a
 * plan whose arena or weights exceed the most one buffer may have lists each buffer's size
 * (EnginePlan.arenaBuffers, weightBuffers) and puts every tensor inside one of them
 * (PlannedTensor.buffer, absent: 0).
 */
import type { Device } from '../gpu/device';
import type { GpuBuffer } from '../gpu/buffer';
import type { EnginePlan } from '../kernel/plan';

/** Each buffer's bytes of the plan's arena or weights. */
export function bufferSizes(plan: EnginePlan, which: 'arena' | 'weights'): number[] {
  const list = which === 'arena' ? plan.arenaBuffers : plan.weightBuffers;
  return list?.length ? list : [which === 'arena' ? plan.arenaBytes : plan.weightBytes];
}

export class BufferSet {
  constructor(readonly buffers: GpuBuffer[]) {}

  /** Buffers of these sizes; on failure the ones already made are disposed. */
  static create(device: Device, sizes: readonly number[]): BufferSet {
    const made: GpuBuffer[] = [];
    try {
      for (const s of sizes) made.push(device.createBuffer(s, 'device'));
    } catch (e) {
      for (const b of made) b.dispose();
      throw e;
    }
    return new BufferSet(made);
  }

  at(index = 0): GpuBuffer {
    const b = this.buffers[index];
    if (!b) throw new RangeError(`buffer ${index} of ${this.buffers.length}`);
    return b;
  }

  write(data: ArrayBufferView, offset: number, index = 0): void {
    this.at(index).write(data, offset);
  }

  read(offset: number, size: number, index = 0): Uint8Array {
    return this.at(index).read(offset, size);
  }

  /** Whether every buffer is at least as large as `sizes` asks. */
  holds(sizes: readonly number[]): boolean {
    return sizes.length <= this.buffers.length && sizes.every((s, k) => this.buffers[k].size >= s);
  }

  /** Bytes of all buffers. */
  get bytes(): number {
    return this.buffers.reduce((a, b) => a + b.size, 0);
  }

  dispose(): void {
    for (const b of this.buffers) b.dispose();
  }
}
