/**
 * vkrt: a TensorRT-style inference optimizer for Node.js.
 * Public exports only; see README.md for the API guide.
 */
export * from './errors';
export type { DType } from './ir/dtype';
export { Tensor, float16Bits, float16Values } from './ir/tensor';
export type { TensorData, TensorLocation } from './ir/tensor';
export { Graph, Model, Node } from './ir/graph';
export type { Attr, AttrValue, Dim, ValueType, FunctionDef } from './ir/graph';
export { loadModel, parseModel, parseTensor, parseValue } from './onnx/parse';
export type { ParseOptions } from './onnx/parse';
export { interpret, Interpreter } from './ops/interpreter';
export type { InterpretOptions } from './ops/interpreter';
export { inferShapes } from './ops/infer-shapes';
export { registry, ALL_OPS, OpRegistry } from './ops/index';
export type { OpDef, OpContext, ShapeContext, RuntimeValue } from './ops/types';
export { parseNpy, parseNpz, writeNpy, writeNpz } from './io/npy';
export { Builder, InferenceSession, Engine, ExecutionContext, Runtime, LayerProfile, buildEngine, buildEngineAsync, DeviceTensor } from './api/session';
export type {
  BuilderConfig, BuildProgress, EngineOptions, AsyncEngineOptions, SessionOptions, OrtSessionOptions, RunOptions, FetchesType, ValueMetadata,
  DeserializeOptions, RunTiming, Profiler, LayerProfileRow, ExecuteOptions, InferenceRun, Feeds,
} from './api/session';
export { StagedEngine, buildStagedEngine, isStagedEngineFile } from './api/staged';
export type { StagedOptions, StageInfo, FallbackNode } from './api/staged';
export { packageVersion } from './gpu/assets';
export { Device } from './gpu/device';
export * as plugins from './plugins/index';
export type { PluginDef, PluginHelpers, PluginInfo, PluginPrecision, PluginLayout } from './plugins/index';
export type { KernelContext, KernelImpl, DispatchDesc, BindingRef, TensorDesc, DeviceCaps } from './kernel/contract';
export { f32bits, grid1d, usesF16, f16Defines } from './kernel/contract';
export type { PluginRecord, RefitWeight } from './kernel/plan';
export type { RefitResult, RefitWeights } from './runtime/refit';
export type { OptimizationProfile } from './builder/config';
export type { ProfileRange } from './kernel/plan';
export type { SpecializationCost } from './runtime/profiles';
export { preferKernel } from './builder/selection';
export type { KernelSelection } from './builder/selection';
export * from './network/index';
export type { DeviceInfo, DeviceOptions } from './gpu/device';
export { InferenceServer, InferenceClient, InferenceClientError, ServeError } from './serve/index';
export type { ServerOptions, InferOptions, InferResult, ModelMetadata, ModelConfig } from './serve/index';
