/**
 * The serving layer: `vkrt serve`'s KServe v2 HTTP server over a model repository, its dynamic
 * batcher, and a client for the same protocol. docs/serve.md is the guide.
 */
export { InferenceServer } from './server';
export type { ServerOptions } from './server';
export { InferenceClient, InferenceClientError, parseInferResponse } from './client';
export type { InferOptions, InferResult, ModelMetadata, RawResponse } from './client';
export { ServeError } from './errors';
export type { ModelConfig } from './repository';
export { DynamicBatcher } from './batcher';
export type { BatcherOptions, BatchResult } from './batcher';
export { FixedShapeExecutor } from './executor';
export type { ModelExecutor, IoSpec } from './executor';
export { datatypeOf, dtypeOfDatatype } from './protocol';
