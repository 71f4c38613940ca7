/**
 * A build's progress as the builder (plan phases, shaders) and the runtime (pipelines, weights)
 * report it through BuilderConfig.progress: one shape and one time scale for both.
 */

/** Where a build is (BuilderConfig.progress). */
export interface BuildProgress {
  /**
   * 'parse', a builder phase ('input shapes', 'optimize', 'shapes', 'kernel selection and
   * precision', 'inputs and outputs', 'memory plan', 'weight layout'), 'shaders' (GLSL to SPIR-V),
   * 'pipelines', 'weights' (upload), or 'done'.
   */
  phase: string;
  /** The layer (shaders, pipelines) the phase is at, 0-based, when it goes layer by layer. */
  layer?: number;
  /** Layers in the plan, with `layer`. */
  layers?: number;
  /** Of the whole build, 0 to 1 (phases weighted by their usual share of the time). */
  fraction: number;
}

/** The share of a build's time each stage takes (fractions of BuildProgress). */
export const PROGRESS_SPAN = {
  parse: [0, 0.05],
  plan: [0.05, 0.25],
  shaders: [0.25, 0.85],
  pipelines: [0.85, 0.98],
  weights: [0.98, 1],
} as const;
