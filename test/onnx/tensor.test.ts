/** Every dtype decodes, from raw_data and from the typed fields; encoder round trips. */
import { strict as assert } from 'assert';
import { ParseError } from '../../src/errors';
import { DType, onnxDTypeCode } from '../../src/ir/dtype';
import { numberToBfloat16Bits, numberToFloat16Bits } from '../../src/ir/float';
import { Tensor } from '../../src/ir/tensor';
import { parseModel, parseTensor } from '../../src/onnx/parse';
import { TensorProto } from '../../src/onnx/schema';
import { serializeModel, serializeTensor, tensorToProto } from '../../src/onnx/serialize';
import { GraphBuilder } from '../../src/ir/builder';
import { tensorBytes } from './helpers';

const enc = (m: object) => TensorProto.encode(m).finish();

/** Sample values each dtype holds exactly. */
const SAMPLES: Record<DType, (number | bigint | string)[]> = {
  float32: [0, -1.5, 3.25, 1e-30, -Infinity, NaN],
  float16: [0, -1.5, 65504, 2 ** -24, -Infinity, NaN],
  bfloat16: [0, -1.5, 3.0e38, 2 ** -130, Infinity, NaN],
  float64: [0, -1.5, 1e300, Math.PI, -Infinity, NaN],
  int8: [0, -128, 127, 5],
  int16: [0, -32768, 32767, -7],
  int32: [0, -(2 ** 31), 2 ** 31 - 1, 12345],
  int64: [0n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -1n],
  uint8: [0, 255, 7],
  uint16: [0, 65535, 300],
  uint32: [0, 2 ** 32 - 1, 2 ** 31 + 5],
  uint64: [0n, 2n ** 64n - 1n, 2n ** 63n + 3n],
  bool: [0, 1, 1, 0],
  string: ['', 'abc', 'żółw ✓', 'x'.repeat(100)],
  complex64: [1, 2, -3, 4.5],
  complex128: [1, 2, -3, Math.E],
  float8e4m3fn: [0, -1.5, 448, 2 ** -9, NaN],
  float8e4m3fnuz: [0, -1.5, 240, 2 ** -10, NaN],
  float8e5m2: [0, -1.5, 57344, 2 ** -16, -Infinity, NaN],
  float8e5m2fnuz: [0, -1.5, 57344, 2 ** -17, NaN],
  float8e8m0: [1, 2 ** -127, 2 ** 127, 0.5, NaN],
  float4e2m1: [0, -0.5, 6, 1.5, -3],
  int4: [-8, 7, 0, -1, 3],
  uint4: [0, 15, 8, 1, 2],
  int2: [-2, 1, 0, -1, 1],
  uint2: [0, 3, 2, 1, 3],
};

function sample(dtype: DType): Tensor {
  const v = SAMPLES[dtype];
  const dims = dtype.startsWith('complex') ? [v.length / 2] : [v.length];
  return Tensor.from(dtype, dims, v as never);
}

function sameValues(a: Tensor, b: Tensor): void {
  assert.equal(a.dtype, b.dtype);
  assert.deepEqual(a.dims, b.dims);
  const x = Array.from(a.data as ArrayLike<unknown>), y = Array.from(b.data as ArrayLike<unknown>);
  assert.equal(x.length, y.length);
  for (let i = 0; i < x.length; i++) {
    if (typeof x[i] === 'number' && Number.isNaN(x[i])) assert.ok(Number.isNaN(y[i] as number), `${a.dtype}[${i}]: NaN expected, got ${y[i]}`);
    else assert.ok(Object.is(x[i], y[i]) || x[i] === y[i], `${a.dtype}[${i}]: ${x[i]} != ${y[i]}`);
  }
}

/** The typed-field encoding ONNX's make_tensor(raw=False) writes for a tensor. */
function typedProto(t: Tensor): Record<string, unknown> {
  const p: Record<string, unknown> = { dims: t.dims, dataType: onnxDTypeCode(t.dtype), name: 'x' };
  const d = Array.from(t.data as ArrayLike<number>);
  switch (t.dtype) {
    case 'float32': case 'complex64': p.floatData = d; break;
    case 'float64': case 'complex128': p.doubleData = d; break;
    case 'string': p.stringData = (t.data as string[]).map((s) => Buffer.from(s)); break;
    case 'int64': p.int64Data = Array.from(t.data as BigInt64Array, (b) => b.toString()); break;
    case 'uint64': p.uint64Data = Array.from(t.data as BigUint64Array, (b) => b.toString()); break;
    case 'uint32': p.uint64Data = d; break;
    case 'float16': p.int32Data = d.map(numberToFloat16Bits); break;
    case 'bfloat16': p.int32Data = d.map(numberToBfloat16Bits); break;
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': case 'float8e8m0':
    case 'float4e2m1': case 'int4': case 'uint4': case 'int2': case 'uint2': {
      const raw = tensorToProto(t).rawData as Uint8Array; // codes, packed for sub-byte types
      p.int32Data = Array.from(raw);
      break;
    }
    default: p.int32Data = d;
  }
  return p;
}

describe('onnx: tensor decoding', () => {
  for (const dtype of Object.keys(SAMPLES) as DType[]) {
    it(`${dtype}: raw_data and typed fields decode to the same values`, () => {
      const t = sample(dtype);
      const viaEncoder = parseTensor(serializeTensor(t, 'x'));
      sameValues(t, viaEncoder);
      const viaTyped = parseTensor(enc(typedProto(t)));
      sameValues(t, viaTyped);
      // and the empty tensor of the dtype
      const empty = parseTensor(enc({ dims: [0, 3], dataType: onnxDTypeCode(dtype) }));
      assert.deepEqual(empty.dims, [0, 3]);
      assert.equal(empty.data.length, 0);
    });
  }

  it('float16 raw_data bits decode exactly (little-endian)', () => {
    const t = parseTensor(enc({ dims: [3], dataType: 10, rawData: Buffer.from([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]) }));
    assert.deepEqual(Array.from(t.data as Float32Array), [1, -2, 2 ** -24]);
  });

  it('int64 beyond 2^53 round-trips exactly through typed fields given as longs', () => {
    const big = [2n ** 62n + 1n, -(2n ** 63n), 2n ** 63n - 1n];
    const t = parseTensor(enc({ dims: [3], dataType: 7, int64Data: big.map(String) }));
    assert.deepEqual(Array.from(t.data as BigInt64Array), big);
    const back = parseTensor(serializeTensor(t));
    assert.deepEqual(Array.from(back.data as BigInt64Array), big);
  });

  it('int attribute INT64_MAX survives a model round trip', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [4]);
    const [y] = b.node('Slice', [x, b.constant(Tensor.from('int64', [1], [0])), b.constant(Tensor.from('int64', [1], [2n ** 63n - 1n]))], { big: 2 ** 63, small: -(2 ** 63) });
    b.output(y);
    const m = parseModel(serializeModel(b.build()));
    const n = m.graph.nodes[0];
    assert.equal(n.attrs.get('big')!.value, 2 ** 63);
    assert.equal(n.attrs.get('small')!.value, -(2 ** 63));
    const ends = m.graph.initializers.get(n.inputs[2])!;
    assert.equal((ends.data as BigInt64Array)[0], 2n ** 63n - 1n);
  });

  it('scalars (rank 0) decode with dims []', () => {
    const t = parseTensor(serializeTensor(Tensor.scalar('float32', 2.5)));
    assert.deepEqual(t.dims, []);
    assert.equal(t.get(0), 2.5);
  });

  it('an aligned float32 raw initializer is a view of the file bytes; an unaligned one is a copy', () => {
    let sawView = false, sawCopy = false;
    for (let pad = 0; pad < 4; pad++) {
      const b = new GraphBuilder('g' + 'p'.repeat(pad)); // the graph name is written before the initializers
      const w = b.initializer('w', Tensor.from('float32', [256], Array.from({ length: 256 }, (_, i) => i / 4)));
      const x = b.input('x', 'float32', [256]);
      b.output(b.node('Add', [x, w])[0]);
      const bytes = Buffer.from(serializeModel(b.build()));
      const m = parseModel(bytes);
      const t = m.graph.initializers.get(w)!;
      const d = t.data as Float32Array;
      assert.equal(d[255], 255 / 4);
      if (d.buffer === bytes.buffer) {
        sawView = true;
        // writing the file bytes shows through: it really is the same memory
        const off = d.byteOffset - bytes.byteOffset;
        const before = d[0];
        bytes.writeFloatLE(42, off);
        assert.equal(d[0], 42);
        bytes.writeFloatLE(before, off);
      } else sawCopy = true;
    }
    assert.ok(sawView, 'no padding gave an aligned view');
    assert.ok(sawCopy, 'no padding gave an unaligned copy');
  });

  it('typed-field counts must match the dims', () => {
    assert.throws(() => parseTensor(enc({ dims: [3], dataType: 1, floatData: [1, 2] })), ParseError);
    assert.throws(() => parseTensor(enc({ dims: [2], dataType: 1, rawData: Buffer.alloc(7) })), /raw_data has 7 bytes/);
    assert.throws(() => parseTensor(enc({ dims: [2], dataType: 8, rawData: Buffer.alloc(2) })), ParseError);
  });

  it('hostile dims: negative, unsafe, overflowing product, huge rank -> ParseError, no allocation', () => {
    const cases: object[] = [
      { dims: [-1], dataType: 1 },
      { dims: ['9007199254740993'], dataType: 1 },
      { dims: [2 ** 31, 2 ** 31, 2 ** 31], dataType: 1, floatData: [1] },
      { dims: [65536, 65536], dataType: 1 },
      { dims: new Array(100).fill(1), dataType: 1, floatData: [1] },
      { dims: [1], dataType: 99, floatData: [1] },
      { dims: [1], dataType: 1, segment: { begin: 0, end: 1 }, floatData: [1] },
    ];
    for (const c of cases) assert.throws(() => parseTensor(enc(c)), ParseError, JSON.stringify(c));
  });

  it('sparse initializers densify; bad indices and oversized dims are ParseErrors', () => {
    const GraphProtoModel = (sparse: object) => {
      const b = new GraphBuilder('g');
      const x = b.input('x', 'float32', [2, 3]);
      b.output(b.node('Identity', [x])[0]);
      const m = serializeModel(b.build());
      // add a sparse initializer through the decoded message
      const { ModelProto } = require('../../src/onnx/schema');
      const msg = ModelProto.decode(m);
      msg.graph.sparseInitializer = [sparse];
      return ModelProto.encode(msg).finish();
    };
    const values = { name: 's', dims: [2], dataType: 1, floatData: [5, 7] };
    const ok = parseModel(GraphProtoModel({ values, indices: { dims: [2], dataType: 7, int64Data: [1, 5] }, dims: [2, 3] }));
    assert.deepEqual(Array.from(ok.graph.initializers.get('s')!.data as Float32Array), [0, 5, 0, 0, 0, 7]);
    const coo = parseModel(GraphProtoModel({ values, indices: { dims: [2, 2], dataType: 7, int64Data: [0, 1, 1, 2] }, dims: [2, 3] }));
    assert.deepEqual(Array.from(coo.graph.initializers.get('s')!.data as Float32Array), [0, 5, 0, 0, 0, 7]);
    assert.throws(() => parseModel(GraphProtoModel({ values, indices: { dims: [2], dataType: 7, int64Data: [1, 6] }, dims: [2, 3] })), /out of range/);
    assert.throws(() => parseModel(GraphProtoModel({ values, indices: { dims: [2, 2], dataType: 7, int64Data: [0, 3, 0, 0] }, dims: [2, 3] })), /out of range/);
    assert.throws(() => parseModel(GraphProtoModel({ values, indices: { dims: [2], dataType: 7, int64Data: [0, 1] }, dims: [1 << 20, 1 << 20] })), /more than the limit/);
  });

  it('string tensors keep UTF-8 text', () => {
    const t = parseTensor(serializeTensor(Tensor.from('string', [2], ['naïve', '日本'])));
    assert.deepEqual(t.data, ['naïve', '日本']);
  });

  it('encoder output equals parse of itself byte for byte (tensor bytes)', () => {
    for (const dtype of Object.keys(SAMPLES) as DType[]) {
      const t = sample(dtype);
      assert.equal(tensorBytes(parseTensor(serializeTensor(parseTensor(serializeTensor(t))))), tensorBytes(parseTensor(serializeTensor(t))), dtype);
    }
  });
});
