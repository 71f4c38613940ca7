import type { NativeBuffer, NativeBufferKind } from '../native';
import { callNative } from './errors';

/**
 * Where a buffer lives.
 * - `device`: GPU memory for kernels (on integrated GPUs and lavapipe also host-mapped);
 * - `upload`: host-visible memory the host writes and the GPU reads (inputs);
 * - `readback`: host-visible, cached memory the GPU writes and the host reads (outputs).
 */
export type BufferKind = NativeBufferKind;

/**
 * A storage buffer with its own memory. Lifetime: {@link GpuBuffer.dispose} frees it (idempotent);
 * a {@link Program} that recorded it keeps the memory alive until the program is disposed too.
 */
export class GpuBuffer {
  /** Size in bytes. */
  readonly size: number;
  readonly kind: BufferKind;
  /** The host reads and writes this buffer directly (no staging copy). */
  readonly mapped: boolean;

  /** @internal */
  constructor(readonly native: NativeBuffer) {
    this.size = native.size;
    this.kind = native.kind;
    this.mapped = native.mapped;
  }

  /**
   * Copies `data` into the buffer at byte `offset`. Blocks until the bytes are in place (through a
   * staging copy when the buffer is not host-visible). Do not write a buffer a running program uses.
   * @throws InputError if the range is outside the buffer; DisposedError after dispose().
   */
  write(data: ArrayBufferView, offset = 0): void {
    callNative('GpuBuffer', () => this.native.write(offset, data));
  }

  /** Copies `size` bytes from byte `offset` into a new Uint8Array (whose byteOffset is 0). */
  read(offset = 0, size = this.size - offset): Uint8Array {
    return callNative('GpuBuffer', () => this.native.read(offset, size));
  }

  /** Fills `target` entirely with the bytes starting at `offset`. */
  readInto(target: ArrayBufferView, offset = 0): void {
    callNative('GpuBuffer', () => this.native.readInto(offset, target));
  }

  /** Reads `count` float32 values starting at byte `offset`. */
  readFloat32(offset = 0, count = Math.floor((this.size - offset) / 4)): Float32Array {
    const out = new Float32Array(count);
    this.readInto(out, offset);
    return out;
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Frees the buffer (once every program recording it is disposed too). Idempotent. */
  dispose(): void {
    this.native.dispose();
  }
}
