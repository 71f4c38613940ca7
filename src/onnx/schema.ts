/**
 * The ONNX protobuf schema, written here from the field numbers published in the ONNX
 * specification (onnx.proto, IR version 10+), as a protobufjs JSON descriptor. Only the messages
 * vkrt reads or writes are declared; unknown fields are skipped by the decoder.
 */
import * as protobuf from 'protobufjs/minimal';
import { Root } from 'protobufjs';

const rep = (type: string, id: number) => ({ rule: 'repeated', type, id });
/**
 * A repeated scalar that onnx.proto (proto2) does not mark `[packed = true]`. Decoders accept both
 * encodings (protobuf rule); declaring it unpacked makes the encoder write what onnx/protobuf-C++
 * write, so files vkrt serializes compare byte-for-byte with theirs where it matters.
 */
const repUnpacked = (type: string, id: number) => ({ rule: 'repeated', type, id, options: { packed: false } });
const f = (type: string, id: number) => ({ type, id });

export const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
        OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
        ModelProto: {
          fields: {
            irVersion: f('int64', 1),
            opsetImport: rep('OperatorSetIdProto', 8),
            producerName: f('string', 2),
            producerVersion: f('string', 3),
            domain: f('string', 4),
            modelVersion: f('int64', 5),
            docString: f('string', 6),
            graph: f('GraphProto', 7),
            metadataProps: rep('StringStringEntryProto', 14),
            functions: rep('FunctionProto', 25),
            // training_info (20) and configuration (26) are not read; the decoder skips them.
          },
        },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1),
            name: f('string', 2),
            initializer: rep('TensorProto', 5),
            sparseInitializer: rep('SparseTensorProto', 15),
            docString: f('string', 10),
            input: rep('ValueInfoProto', 11),
            output: rep('ValueInfoProto', 12),
            valueInfo: rep('ValueInfoProto', 13),
            metadataProps: rep('StringStringEntryProto', 16),
            // quantization_annotation (14) is not read.
          },
        },
        NodeProto: {
          fields: {
            input: rep('string', 1),
            output: rep('string', 2),
            name: f('string', 3),
            opType: f('string', 4),
            domain: f('string', 7),
            overload: f('string', 8),
            attribute: rep('AttributeProto', 5),
            docString: f('string', 6),
            metadataProps: rep('StringStringEntryProto', 9),
          },
        },
        AttributeProto: {
          fields: {
            name: f('string', 1),
            refAttrName: f('string', 21),
            docString: f('string', 13),
            type: f('int32', 20),
            f: f('float', 2),
            i: f('int64', 3),
            s: f('bytes', 4),
            t: f('TensorProto', 5),
            g: f('GraphProto', 6),
            sparseTensor: f('SparseTensorProto', 22),
            tp: f('TypeProto', 14),
            floats: repUnpacked('float', 7),
            ints: repUnpacked('int64', 8),
            strings: rep('bytes', 9),
            tensors: rep('TensorProto', 10),
            graphs: rep('GraphProto', 11),
            sparseTensors: rep('SparseTensorProto', 23),
            typeProtos: rep('TypeProto', 15),
          },
        },
        ValueInfoProto: { fields: { name: f('string', 1), type: f('TypeProto', 2), docString: f('string', 3), metadataProps: rep('StringStringEntryProto', 4) } },
        TensorProto: {
          fields: {
            dims: repUnpacked('int64', 1),
            dataType: f('int32', 2),
            segment: f('Segment', 3),
            floatData: rep('float', 4),
            int32Data: rep('int32', 5),
            stringData: rep('bytes', 6),
            int64Data: rep('int64', 7),
            name: f('string', 8),
            docString: f('string', 12),
            rawData: f('bytes', 9),
            externalData: rep('StringStringEntryProto', 13),
            dataLocation: f('int32', 14),
            doubleData: rep('double', 10),
            uint64Data: rep('uint64', 11),
            metadataProps: rep('StringStringEntryProto', 16),
          },
          nested: { Segment: { fields: { begin: f('int64', 1), end: f('int64', 2) } } },
        },
        SparseTensorProto: { fields: { values: f('TensorProto', 1), indices: f('TensorProto', 2), dims: repUnpacked('int64', 3) } },
        TensorShapeProto: {
          fields: { dim: rep('Dimension', 1) },
          nested: { Dimension: { oneofs: { value: { oneof: ['dimValue', 'dimParam'] } }, fields: { dimValue: f('int64', 1), dimParam: f('string', 2), denotation: f('string', 3) } } },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType'] } },
          fields: {
            tensorType: f('Tensor', 1),
            sequenceType: f('Sequence', 4),
            mapType: f('Map', 5),
            optionalType: f('Optional', 9),
            sparseTensorType: f('SparseTensor', 8),
            denotation: f('string', 6),
          },
          nested: {
            Tensor: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } },
            Sequence: { fields: { elemType: f('TypeProto', 1) } },
            Map: { fields: { keyType: f('int32', 1), valueType: f('TypeProto', 2) } },
            Optional: { fields: { elemType: f('TypeProto', 1) } },
            SparseTensor: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } },
          },
        },
        FunctionProto: {
          fields: {
            name: f('string', 1),
            input: rep('string', 4),
            output: rep('string', 5),
            attribute: rep('string', 6),
            attributeProto: rep('AttributeProto', 11),
            node: rep('NodeProto', 7),
            docString: f('string', 8),
            opsetImport: rep('OperatorSetIdProto', 9),
            domain: f('string', 10),
            overload: f('string', 13),
            valueInfo: rep('ValueInfoProto', 12),
            metadataProps: rep('StringStringEntryProto', 14),
          },
        },
        SequenceProto: {
          fields: {
            name: f('string', 1),
            elemType: f('int32', 2),
            tensorValues: rep('TensorProto', 3),
            sparseTensorValues: rep('SparseTensorProto', 4),
            sequenceValues: rep('SequenceProto', 5),
            mapValues: rep('MapProto', 6),
            optionalValues: rep('OptionalProto', 7),
          },
        },
        MapProto: {
          fields: { name: f('string', 1), keyType: f('int32', 2), keys: repUnpacked('int64', 3), stringKeys: rep('bytes', 4), values: f('SequenceProto', 5) },
        },
        OptionalProto: {
          fields: {
            name: f('string', 1),
            elemType: f('int32', 2),
            tensorValue: f('TensorProto', 3),
            sparseTensorValue: f('SparseTensorProto', 4),
            sequenceValue: f('SequenceProto', 5),
            mapValue: f('MapProto', 6),
            optionalValue: f('OptionalProto', 7),
          },
        },
      },
    },
  },
};

void protobuf;
export const root = Root.fromJSON(ONNX_SCHEMA);
export const ModelProto = root.lookupType('onnx.ModelProto');
export const TensorProto = root.lookupType('onnx.TensorProto');
export const SequenceProto = root.lookupType('onnx.SequenceProto');
export const OptionalProto = root.lookupType('onnx.OptionalProto');
export const GraphProto = root.lookupType('onnx.GraphProto');
export const NodeProto = root.lookupType('onnx.NodeProto');
export const AttributeProto = root.lookupType('onnx.AttributeProto');
export const FunctionProto = root.lookupType('onnx.FunctionProto');
export const TypeProto = root.lookupType('onnx.TypeProto');

/** ONNX TensorProto.DataLocation: EXTERNAL means raw bytes live in another file (external_data). */
export const DATA_LOCATION_EXTERNAL = 1;

/** ONNX AttributeProto.AttributeType numbers. */
export const ATTRIBUTE_TYPE = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, SPARSE_TENSOR: 11, TYPE_PROTO: 13,
  FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSORS: 12, TYPE_PROTOS: 14,
} as const;
