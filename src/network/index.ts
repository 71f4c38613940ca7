/** The network definition API (TensorRT's INetworkDefinition); see network.ts and docs/plugins.md. */
export { NetworkDefinition } from './network';
export type {
  ActivationType, ConvolutionOptions, ElementWiseOperation, FullyConnectedOptions, ILayer, ITensor, LayerType, MatrixOperation,
  NetworkOptions, PluginLayerOptions, PoolingOptions, PoolingType, ReduceOperation, ScaleMode, ScaleOptions, ShuffleOptions,
  UnaryOperation, Weights,
} from './network';
