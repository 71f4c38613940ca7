/**
 * DeviceTensor: a tensor that lives in a device's memory and is owned by the caller (onnxruntime's
 * IO binding and `preferredOutputLocation: 'gpu-buffer'`, TensorRT's device pointers). Given as an
 * input of `execute`/`enqueue` its bytes are copied on the queue into the engine's memory; given
 * (or requested) as an output, the engine's result is copied on the queue into it. So one engine's
 * output feeds another engine on the same device without crossing to the host (docs/async.md).
 *
 * Ordering: a context's copies into and out of a device tensor are recorded on its queue; work on
 * one queue runs in submission order (every run begins with a barrier), and a run on another queue
 * waits on the host for the tensor's pending writer (and, to write it, its pending readers) before
 * it is submitted. `download()` waits for the pending writer.
 */
import { DeviceTensorError, DisposedError, InputError } from '../errors';
import type { GpuBuffer } from '../gpu/buffer';
import type { Device } from '../gpu/device';
import type { DType } from '../ir/dtype';
import { float16Bits, float16Values, Tensor } from '../ir/tensor';
import { gpuTypeBytes, gpuTypeOf, toGpuArray, type GpuType } from '../kernel/storage';

/** A pending GPU access to a device tensor: the queue it was submitted on, and its completion. */
interface Access {
  queue: number;
  done: Promise<unknown>;
}

let serial = 0;

/** A tensor in device memory (see the file comment). Lifetime: dispose() (idempotent). */
export class DeviceTensor {
  /** @internal Identity of this tensor (programs that copy it are cached by it). */
  readonly id = ++serial;
  readonly dims: readonly number[];
  /** Elements (product of dims). */
  readonly size: number;
  /** Bytes on the device: size times the storage type's bytes. */
  readonly bytes: number;
  /** @internal The memory; undefined for a tensor of no elements. */
  readonly buffer?: GpuBuffer;
  /** @internal The last run (or upload) that writes this tensor, while pending. */
  lastWrite?: Access;
  /** @internal Runs that read this tensor since the last write, while pending. */
  reads: Access[] = [];
  private disposedFlag = false;

  private constructor(readonly device: Device, readonly dtype: DType, dims: readonly number[], readonly storage: GpuType) {
    this.dims = Object.freeze([...dims]);
    this.size = dims.reduce((a, b) => a * b, 1);
    this.bytes = this.size * gpuTypeBytes(storage);
    if (this.bytes > 0) this.buffer = device.createBuffer(this.bytes, 'device');
  }

  /**
   * An uninitialized device tensor. `storage` is how the GPU holds the values (default: float types
   * as f32, integers and bool as i32, as engines hold their inputs and outputs); an engine's
   * `createDeviceTensor(name)` picks dtype, dims and storage of one of its inputs or outputs.
   * @throws InputError for bad dims or a dtype the GPU does not hold.
   */
  static alloc(device: Device, dtype: DType, dims: readonly number[], storage?: GpuType): DeviceTensor {
    if (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new InputError(`DeviceTensor: dims must be an array of non-negative integers, got ${JSON.stringify(dims)}`);
    const s = storage ?? gpuTypeOf(dtype);
    if (!s) throw new InputError(`DeviceTensor: the GPU does not hold ${dtype} tensors`);
    if (s !== 'f32' && s !== 'f16' && s !== 'i32') throw new InputError(`DeviceTensor: storage must be f32, f16 or i32, got ${String(s)}`);
    if ((s === 'i32') !== (gpuTypeOf(dtype) === 'i32')) throw new InputError(`DeviceTensor: a ${dtype} tensor cannot be stored as ${s}`);
    return new DeviceTensor(device, dtype, dims, s);
  }

  /** A device tensor holding a host tensor's values (written now; the host tensor may change after). */
  static from(device: Device, tensor: Tensor, storage?: GpuType): DeviceTensor {
    if (!(tensor instanceof Tensor)) throw new InputError('DeviceTensor.from: expected a Tensor');
    const t = DeviceTensor.alloc(device, tensor.dtype, tensor.dims, storage);
    if (t.buffer) t.buffer.write(toGpuArray(tensor, t.storage));
    return t;
  }

  /** Where the data lives (onnxruntime's Tensor.location). */
  get location(): 'gpu-buffer' | 'none' {
    return this.disposedFlag ? 'none' : 'gpu-buffer';
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** @internal Throws DisposedError after dispose() (or once its device is gone). */
  check(what: string): void {
    if (this.disposedFlag || this.device.disposed || this.buffer?.disposed) throw new DisposedError(`DeviceTensor${what ? ` (${what})` : ''}`);
  }

  /**
   * Checks this tensor can stand for an engine's input or output `name` of this dtype, dims and
   * storage on `device`; throws DeviceTensorError saying what differs, DisposedError when disposed.
   * @internal
   */
  checkFor(device: Device, role: 'input' | 'output', name: string, dtype: DType, dims: readonly number[], storage: GpuType): void {
    this.check(`${role} '${name}'`);
    const what = `${role} '${name}'`;
    if (this.device !== device) throw new DeviceTensorError(`${what}: the device tensor was allocated on another device (${this.device.info.name}) than the engine's (${device.info.name}); copy it through the host (download(), then DeviceTensor.from) or load the engine on its device`, name, 'device');
    if (this.dtype !== dtype) throw new DeviceTensorError(`${what} is ${dtype}; the device tensor is ${this.dtype}`, name, 'dtype');
    if (this.dims.length !== dims.length || this.dims.some((d, k) => d !== dims[k])) throw new DeviceTensorError(`${what} has shape [${dims.join(',')}]; the device tensor has [${this.dims.join(',')}]`, name, 'shape');
    if (this.storage !== storage) throw new DeviceTensorError(`${what} is held as ${storage} on the GPU by this engine; the device tensor holds ${this.storage} (allocate it with engine.createDeviceTensor('${name}'))`, name, 'storage');
  }

  /** @internal What a run must wait for on the host before it submits on `queue` (reading or writing this tensor). */
  hazards(queue: number, write: boolean): Promise<unknown>[] {
    const out: Promise<unknown>[] = [];
    if (this.lastWrite && this.lastWrite.queue !== queue) out.push(this.lastWrite.done);
    if (write) for (const r of this.reads) if (r.queue !== queue) out.push(r.done);
    return out;
  }

  /** @internal Records a submitted access (forgotten once it completes). */
  track(queue: number, done: Promise<unknown>, write: boolean): void {
    const a: Access = { queue, done };
    const settled = done.then(() => undefined, () => undefined);
    if (write) {
      this.lastWrite = a;
      this.reads = [];
      void settled.then(() => { if (this.lastWrite === a) this.lastWrite = undefined; });
    } else {
      this.reads.push(a);
      void settled.then(() => { this.reads = this.reads.filter((r) => r !== a); });
    }
  }

  /**
   * Reads the values to the host once the pending write (a run that outputs into it) is done:
   * a host Tensor of this dtype and dims (float16 as half bits in a Uint16Array, as engine outputs).
   */
  async download(): Promise<Tensor> {
    this.check('download');
    while (this.lastWrite) await this.lastWrite.done.catch(() => undefined);
    this.check('download');
    if (!this.buffer) return Tensor.zeros(this.dtype, this.dims);
    const bytes = this.buffer.read(0, this.bytes);
    const n = this.size;
    if (this.storage === 'i32') return Tensor.from(this.dtype, this.dims, new Int32Array(bytes.buffer, bytes.byteOffset, n));
    const f32 = this.storage === 'f16' ? float16Values(new Uint16Array(bytes.buffer, bytes.byteOffset, n)) : new Float32Array(bytes.buffer, bytes.byteOffset, n);
    if (this.dtype === 'float32') return new Tensor('float32', this.dims, f32);
    if (this.dtype === 'float16') return new Tensor('float16', this.dims, float16Bits(f32));
    return Tensor.from(this.dtype, this.dims, f32);
  }

  /** Frees the device memory (a run in flight that uses it keeps it until it completes). Idempotent. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.buffer?.dispose();
  }
}
