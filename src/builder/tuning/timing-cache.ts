/**
 * The timing cache (TensorRT's ITimingCache): measured GPU times of kernel candidates, keyed by the
 * candidate's signature (everything that decides its speed: shaders, defines, generated source,
 * params, workgroup and grid sizes, tensor shapes and storage types, weight and scratch sizes) and
 * scoped to one device, driver and vkrt version. A file that is damaged, of another format, or made
 * on another device or version is ignored with a warning, never an error: the build just times
 * again. Saving merges with what the file holds, so several builds can share one cache.
 */
import * as fs from 'fs';
import type { Device } from '../../gpu/device';
import { packageVersion } from '../../gpu/assets';

const FORMAT = 'vkrt-timing-cache';
const FORMAT_VERSION = 1;

/** What a cache is valid for: one device, one driver, one vkrt version. */
export function timingScope(device: Pick<Device, 'info'>): string {
  const i = device.info;
  return `${i.name}|${i.vendorId}:${i.deviceId}|driver ${i.driverVersionRaw}|${i.pipelineCacheUUID}|vkrt ${packageVersion()}`;
}

interface CacheFile {
  format: string;
  version: number;
  scope: string;
  /** candidate signature -> median GPU milliseconds */
  timings: Record<string, number>;
}

export class TimingCache {
  private readonly timings = new Map<string, number>();
  /** Entries measured or merged since the cache was made (what a save adds). */
  added = 0;

  constructor(readonly scope: string) {}

  get size(): number { return this.timings.size; }

  get(signature: string): number | undefined {
    return this.timings.get(signature);
  }

  set(signature: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (!this.timings.has(signature)) this.added++;
    this.timings.set(signature, ms);
  }

  /** The cache as file bytes (JSON, sorted keys: stable across runs). */
  serialize(): string {
    const timings: Record<string, number> = {};
    for (const k of [...this.timings.keys()].sort()) timings[k] = this.timings.get(k)!;
    const file: CacheFile = { format: FORMAT, version: FORMAT_VERSION, scope: this.scope, timings };
    return JSON.stringify(file, null, 1) + '\n';
  }

  /**
   * Entries of a serialized cache for the same scope; returns why it was ignored otherwise (a
   * damaged or foreign file, another device, driver or vkrt version).
   */
  merge(text: string): string | undefined {
    let f: Partial<CacheFile>;
    try {
      f = JSON.parse(text) as Partial<CacheFile>;
    } catch (e) {
      return `not a timing cache (${(e as Error).message})`;
    }
    if (!f || typeof f !== 'object' || f.format !== FORMAT) return 'not a vkrt timing cache';
    if (f.version !== FORMAT_VERSION) return `timing cache format ${String(f.version)}, this vkrt reads ${FORMAT_VERSION}`;
    if (f.scope !== this.scope) return `made for ${String(f.scope)}; this build is for ${this.scope}`;
    if (!f.timings || typeof f.timings !== 'object') return 'the timing cache has no timings';
    for (const [k, v] of Object.entries(f.timings)) if (typeof v === 'number') this.set(k, v);
    return undefined;
  }

  /**
   * The cache for a device from a file (missing: empty). A file that cannot be used is reported
   * through `warn` and ignored.
   */
  static load(file: string | undefined, device: Pick<Device, 'info'>, warn: (message: string) => void): TimingCache {
    const cache = new TimingCache(timingScope(device));
    if (!file || !fs.existsSync(file)) return cache;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      warn(`timing cache ${file} cannot be read (${(e as Error).message}); timing from scratch`);
      return cache;
    }
    const why = cache.merge(text);
    if (why) warn(`timing cache ${file} ignored: ${why}; timing from scratch`);
    cache.added = 0;
    return cache;
  }

  /** Writes the cache, merged with what the file holds now (same scope only), atomically. */
  save(file: string): void {
    const merged = new TimingCache(this.scope);
    if (fs.existsSync(file)) {
      try {
        merged.merge(fs.readFileSync(file, 'utf8'));
      } catch {
        // unreadable: overwritten below
      }
    }
    for (const [k, v] of this.timings) merged.set(k, v);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, merged.serialize());
    fs.renameSync(tmp, file);
  }
}
