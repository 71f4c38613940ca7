/**
 * Kernel auto-tuning (TensorRT's tactic selection). A build runs twice over the model: the first
 * pass collects every layer's candidates (the heuristic choice stands in), the candidates are timed
 * on the device — once per distinct signature, nothing that the timing cache already knows — and
 * the second pass picks, per layer, the fastest timed candidate. Which candidates are timed is the
 * optimization level (trtexec's --builderOptimizationLevel):
 *   0: none; the operator's heuristic order decides (no timing);
 *   1-2: the first two candidates of the heuristic order;
 *   3 (default): the first three;
 *   4-5: every candidate.
 * Candidates the level leaves out are never chosen; a candidate that fails to run is skipped; when
 * none of a layer's candidates has a time, the heuristic choice stands. Ties keep heuristic order.
 */
import type { Device } from '../../gpu/device';
import type { Model } from '../../ir/graph';
import type { KernelImpl } from '../../kernel/contract';
import type { BuiltEngine } from '../../kernel/plan';
import { buildPlan } from '../builder';
import { deviceCaps } from '../caps';
import type { BuilderConfig } from '../config';
import { heuristicSelection, KernelSelection, SelectionRequest } from '../selection';
import { compileShaders } from '../shaders';
import { candidateSignature, CandidateTimer, DeviceTimer } from './measure';
import { TimingCache } from './timing-cache';

export const DEFAULT_OPTIMIZATION_LEVEL = 3;
export const MAX_OPTIMIZATION_LEVEL = 5;

/** How many of a layer's candidates (heuristic order) a level times. */
export function candidatesAtLevel(level: number, count: number): number {
  if (level <= 0) return Math.min(1, count);
  if (level <= 2) return Math.min(2, count);
  if (level === 3) return Math.min(3, count);
  return count;
}

export interface TuningProgress {
  /** Layer being tuned (1-based) and how many layers have more than one candidate. */
  layer: number;
  layers: number;
  name: string;
  /** Candidates timed for this layer (cache hits excluded). */
  candidates: number;
  elapsedMs: number;
  /** Estimated milliseconds left, from the time per timed candidate so far. */
  etaMs: number;
}

export interface TuningReport {
  level: number;
  /** Layers with more than one candidate at this level. */
  layersTuned: number;
  /** Distinct candidate signatures timed in this build (cache hits excluded). */
  candidatesTimed: number;
  cacheHits: number;
  failures: number;
  timeMs: number;
  /** Sum of the chosen candidates' times and of the heuristic choices' times, over tuned layers. */
  chosenMs: number;
  heuristicMs: number;
}

/** The tuning part of a build's configuration. */
export interface TuningOptions {
  /** 0-5, see the module comment; default 3. */
  optimizationLevel?: number;
  /** Timings from earlier builds; measured timings are added to it. */
  cache?: TimingCache;
  /** Measures candidates (default: on the device, GPU timestamps). */
  timer?: CandidateTimer;
  onProgress?(p: TuningProgress): void;
}

/** Picks, among the candidates a level considers, the one with the smallest cached time. */
export function timedSelection(cache: TimingCache, level: number, paramMode: 'spec' | 'push', chosen?: Map<string, { ms?: number; considered: number }>): KernelSelection {
  return {
    name: `timed (level ${level})`,
    choose(r: SelectionRequest): KernelImpl {
      const considered = r.candidates.slice(0, candidatesAtLevel(level, r.candidates.length));
      let best: KernelImpl | undefined, bestMs = Infinity;
      for (const c of considered) {
        const ms = cache.get(candidateSignature(r, c, paramMode));
        if (ms !== undefined && ms < bestMs) { best = c; bestMs = ms; }
      }
      const pick = best ?? heuristicSelection.choose(r);
      chosen?.set(r.node.name || r.node.outputs[0], { ms: best ? bestMs : undefined, considered: considered.length });
      return pick;
    },
  };
}

/** Builds with tuning; see the module comment. */
export async function buildTuned(model: Model, device: Device, config: BuilderConfig, tuning: TuningOptions): Promise<BuiltEngine & { tuning: TuningReport }> {
  const log = config.log ?? (() => {});
  const caps = deviceCaps(device, config);
  const paramMode = config.paramMode ?? 'spec';
  const level = Math.max(0, Math.min(MAX_OPTIMIZATION_LEVEL, Math.trunc(tuning.optimizationLevel ?? DEFAULT_OPTIMIZATION_LEVEL)));
  const cache = tuning.cache ?? new TimingCache('in-memory');
  const report: TuningReport = { level, layersTuned: 0, candidatesTimed: 0, cacheHits: 0, failures: 0, timeMs: 0, chosenMs: 0, heuristicMs: 0 };
  const t0 = performance.now();
  if (level > 0) {
    // pass 1: every layer's candidates
    const requests: SelectionRequest[] = [];
    buildPlan(model, caps, { ...config, log: undefined, warn: () => {}, selection: { name: 'collect', choose: (r) => { requests.push(r); return r.candidates[0]; } } });
    const tuned = requests.filter((r) => candidatesAtLevel(level, r.candidates.length) > 1);
    report.layersTuned = tuned.length;
    const timer = tuning.timer ?? new DeviceTimer(device);
    const failed = new Set<string>();
    let timedSoFar = 0;
    for (const [i, r] of tuned.entries()) {
      let timedHere = 0;
      for (const c of r.candidates.slice(0, candidatesAtLevel(level, r.candidates.length))) {
        const sig = candidateSignature(r, c, paramMode);
        if (cache.get(sig) !== undefined) { report.cacheHits++; continue; }
        if (failed.has(sig)) continue;
        try {
          cache.set(sig, await timer.time(r, c, paramMode));
          report.candidatesTimed++;
          timedHere++;
        } catch (e) {
          failed.add(sig);
          report.failures++;
          log(`tuning: ${r.node.name || r.node.outputs[0]}: candidate ${c.name} failed to run (${(e as Error).message}); skipped`);
        }
      }
      timedSoFar += timedHere;
      const elapsed = performance.now() - t0;
      const left = tuned.slice(i + 1).reduce((n, q) => n + candidatesAtLevel(level, q.candidates.length), 0);
      tuning.onProgress?.({ layer: i + 1, layers: tuned.length, name: r.node.name || r.node.outputs[0], candidates: timedHere, elapsedMs: elapsed, etaMs: timedSoFar ? (elapsed / timedSoFar) * left : 0 });
    }
    for (const r of tuned) {
      const times = r.candidates.map((c) => cache.get(candidateSignature(r, c, paramMode)));
      const known = times.filter((t): t is number => t !== undefined);
      if (times[0] !== undefined && known.length) { report.heuristicMs += times[0]; report.chosenMs += Math.min(...known); }
    }
  }
  // pass 2: the fastest timed candidate per layer
  const chosen = new Map<string, { ms?: number; considered: number }>();
  const plan = buildPlan(model, caps, { ...config, selection: level > 0 ? timedSelection(cache, level, paramMode, chosen) : heuristicSelection });
  for (const l of plan.layers) {
    const c = chosen.get(l.name);
    if (c && c.considered > 1) l.tactic = { candidates: c.considered, ms: c.ms };
  }
  report.timeMs = performance.now() - t0;
  if (level > 0) {
    const speedup = report.chosenMs > 0 ? report.heuristicMs / report.chosenMs : 1;
    log(`tuning: level ${level}, ${report.layersTuned} layers tuned, ${report.candidatesTimed} candidates timed, ${report.cacheHits} from the cache, ${report.failures} failed, ${report.timeMs.toFixed(0)} ms; tuned layers ${report.chosenMs.toFixed(3)} ms vs heuristic ${report.heuristicMs.toFixed(3)} ms (${speedup.toFixed(2)}x)`);
  }
  return { plan, shaders: compileShaders(plan), tuning: report };
}
