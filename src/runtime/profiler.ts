/**
 * The profiler contract (TensorRT's IProfiler) and a collector of per-layer times over many runs.
 *
 * An ExecutionContext with a profiler records a second program with a timestamp before the first
 * layer and after each layer (fenceposts: N+1 for N layers) and, after every run, calls
 * `reportLayerTime` once per layer in execution order with the time between its two fenceposts.
 * Without a profiler the context submits a program with no queries at all.
 */
import { InputError } from '../errors';
import { median } from './stats';

/** Receives layer times after each profiled run (TensorRT's IProfiler). */
export interface Profiler {
  /** Called once per engine layer, in execution order, after each run. */
  reportLayerTime(layerName: string, ms: number): void;
}

/** One row of a per-layer profile (what `--dumpProfile` prints and `--exportProfile` writes). */
export interface LayerProfileRow {
  name: string;
  /** Sum over all profiled runs. */
  timeMs: number;
  averageMs: number;
  medianMs: number;
  /** Share of the total of all layers, 0..100. */
  percentage: number;
}

/**
 * A Profiler that keeps every layer time of every run, for reports. Layers are tracked by position
 * (names may repeat); a name that does not match its position is refused.
 */
export class LayerProfile implements Profiler {
  private readonly samples: number[][];
  private cursor = 0;

  /** @param layerNames the engine's layer names in execution order (`engine.plan.layers.map(l => l.name)`). */
  constructor(readonly layerNames: readonly string[]) {
    this.samples = layerNames.map(() => []);
  }

  reportLayerTime(layerName: string, ms: number): void {
    if (!this.layerNames.length) return;
    const expected = this.layerNames[this.cursor];
    if (layerName !== expected) throw new InputError(`LayerProfile: got layer '${layerName}' where '${expected}' (layer ${this.cursor}) comes in execution order`);
    this.samples[this.cursor].push(ms);
    this.cursor = (this.cursor + 1) % this.layerNames.length;
  }

  /** Number of complete runs recorded. */
  get runs(): number {
    return this.samples.length ? this.samples[this.samples.length - 1].length : 0;
  }

  /** Per-run times of layer `i` (ms). */
  layerTimes(i: number): readonly number[] {
    return this.samples[i];
  }

  /** Per-run sums over all layers (ms), one per complete run. */
  runTotals(): number[] {
    return Array.from({ length: this.runs }, (_, r) => this.samples.reduce((a, s) => a + s[r], 0));
  }

  /** One row per layer, in execution order (trtexec's order). */
  rows(): LayerProfileRow[] {
    const n = this.runs;
    const totals = this.samples.map((s) => s.slice(0, n).reduce((a, b) => a + b, 0));
    const all = totals.reduce((a, b) => a + b, 0);
    return this.layerNames.map((name, i) => ({
      name,
      timeMs: totals[i],
      averageMs: n ? totals[i] / n : 0,
      medianMs: n ? median(this.samples[i].slice(0, n).sort((a, b) => a - b)) : 0,
      percentage: all > 0 ? (100 * totals[i]) / all : 0,
    }));
  }
}
