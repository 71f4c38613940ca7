import { InputError } from '../errors';
import type { NativeBufferRange, NativeCommand, NativeProgram } from '../native';
import { GpuBuffer } from './buffer';
import { callNative, translateNativeError } from './errors';
import { Pipeline } from './pipeline';
import { timestampDeltasMs } from './timing';

/**
 * A buffer bound to a dispatch: the whole buffer, or `range` bytes from `offset` (a sub-range of
 * an arena buffer; `offset` must be a multiple of the device's minStorageBufferOffsetAlignment).
 */
export type BufferBinding = GpuBuffer | { buffer: GpuBuffer; offset?: number; range?: number };

/** One command of a {@link Program}. */
export type Command =
  | {
      op: 'dispatch';
      pipeline: Pipeline;
      /** One per pipeline binding, in binding order. */
      bindings: readonly BufferBinding[];
      /** Exactly `pipeline.pushConstantSize` bytes. */
      push?: ArrayBufferView;
      /** Workgroup counts: x, or [x, y, z]. */
      groups: number | readonly [number, number?, number?];
    }
  /** Makes all earlier shader and transfer writes visible to all later commands. */
  | { op: 'barrier' }
  /** Writes timestamp `index` once all earlier commands have finished (a fencepost). */
  | { op: 'timestamp'; index: number }
  | { op: 'copy'; src: GpuBuffer; srcOffset?: number; dst: GpuBuffer; dstOffset?: number; size?: number }
  /** Fills `size` bytes (multiple of 4) with the 32-bit `value`. */
  | { op: 'fill'; dst: GpuBuffer; offset?: number; size?: number; value?: number };

function range(b: BufferBinding, where: string): NativeBufferRange {
  const r = b instanceof GpuBuffer ? { buffer: b } : b;
  if (!r || !(r.buffer instanceof GpuBuffer)) throw new InputError(`${where}: expected a GpuBuffer or {buffer, offset, range}`);
  const offset = r.offset ?? 0;
  return { buffer: r.buffer.native, offset, range: r.range ?? r.buffer.size - offset };
}

/** @internal Converts commands to the addon's form (defaults filled in; the addon validates). */
export function toNativeCommands(commands: readonly Command[]): NativeCommand[] {
  if (!Array.isArray(commands)) throw new InputError('commands must be an array');
  return commands.map((c, i): NativeCommand => {
    if (!c || typeof c !== 'object') throw new InputError(`command ${i}: expected an object`);
    const where = `command ${i} (${c.op})`;
    switch (c.op) {
      case 'dispatch': {
        if (!(c.pipeline instanceof Pipeline)) throw new InputError(`${where}: pipeline must be a Pipeline`);
        const g = typeof c.groups === 'number' ? [c.groups] : c.groups;
        if (!Array.isArray(g) || g.length < 1 || g.length > 3) throw new InputError(`${where}: groups must be x or [x, y, z]`);
        return {
          op: 'dispatch',
          pipeline: c.pipeline.native,
          bindings: Array.from(c.bindings, (b: BufferBinding, k: number) => range(b, `${where} binding ${k}`)),
          push: c.push,
          groups: [g[0] as number, g[1] ?? 1, g[2] ?? 1],
        };
      }
      case 'barrier':
        return { op: 'barrier' };
      case 'timestamp':
        return { op: 'timestamp', index: c.index };
      case 'copy': {
        if (!(c.src instanceof GpuBuffer) || !(c.dst instanceof GpuBuffer))
          throw new InputError(`${where}: src and dst must be GpuBuffers`);
        const srcOffset = c.srcOffset ?? 0;
        const dstOffset = c.dstOffset ?? 0;
        const size = c.size ?? Math.min(c.src.size - srcOffset, c.dst.size - dstOffset);
        return { op: 'copy', src: { buffer: c.src.native, offset: srcOffset }, dst: { buffer: c.dst.native, offset: dstOffset }, size };
      }
      case 'fill': {
        if (!(c.dst instanceof GpuBuffer)) throw new InputError(`${where}: dst must be a GpuBuffer`);
        const offset = c.offset ?? 0;
        return { op: 'fill', dst: { buffer: c.dst.native, offset }, size: c.size ?? c.dst.size - offset, value: c.value ?? 0 };
      }
      default:
        throw new InputError(`${where}: op must be dispatch, barrier, timestamp, copy or fill`);
    }
  });
}

/**
 * Workgroup counts covering `count` invocations of `localSize`, laid out as `global_index()` in
 * shaders/common/index.glsl expects: x up to `maxX` groups, the rest in y.
 */
export function grid1d(count: number, localSize: number, maxX = 65535): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / localSize));
  if (groups <= maxX) return [groups, 1, 1];
  return [maxX, Math.ceil(groups / maxX), 1];
}

/**
 * Commands recorded once into a command buffer and submitted many times. Lifetime: dispose();
 * a submission in flight completes first (the native side holds it until then).
 */
export class Program {
  /** Number of timestamp slots (highest `timestamp` index + 1). */
  readonly timestampCount: number;
  readonly commandCount: number;
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  /** @internal */
  constructor(
    readonly native: NativeProgram,
    private readonly clock: { timestampPeriodNs: number; timestampValidBits: number },
  ) {
    const d = native.describe();
    this.timestampCount = d.timestampCount;
    this.commandCount = d.commandCount;
  }

  /**
   * Submits the recorded commands on compute queue `queue` (0..computeQueues-1) and resolves when
   * the GPU has finished. The fence is awaited on the queue's own runner thread (not libuv's pool):
   * the event loop keeps running. Submitting again before the previous submission settled queues
   * behind it.
   * @throws (rejects) DisposedError, InputError for a bad queue index, GpuTimeoutError when the GPU
   *   did not finish within the device's GPU timeout, DeviceLostError on a lost or hung device,
   *   VulkanError for other failures.
   */
  submit(queue = 0): Promise<void> {
    // Nothing pending: submit now (synchronously), so a dispose() right after still lets it run.
    const start = () => this.submitNow(queue);
    const run = this.pending === 0 ? start() : this.tail.then(start, start);
    this.pending++;
    this.tail = run.then(
      () => void this.pending--,
      () => void this.pending--,
    );
    return run;
  }

  private async submitNow(queue: number): Promise<void> {
    let p: Promise<void>;
    try {
      p = this.native.submit(queue);
    } catch (e) {
      throw translateNativeError(e, 'Program');
    }
    try {
      await p;
    } catch (e) {
      throw translateNativeError(e, 'Program');
    }
  }

  /** Raw ticks of every timestamp from the last completed submission (empty before the first). */
  timestamps(): bigint[] {
    return Array.from(callNative('Program', () => this.native.timestamps()));
  }

  /** Milliseconds between consecutive timestamps of the last completed submission. */
  timestampDeltasMs(): number[] {
    return timestampDeltasMs(this.timestamps(), this.clock.timestampPeriodNs, this.clock.timestampValidBits);
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Idempotent. */
  dispose(): void {
    this.native.dispose();
  }
}
