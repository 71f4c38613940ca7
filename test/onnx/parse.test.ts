/** Model-level parsing: structure, attributes, Constant nodes, types, functions, malformed files. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ParseError } from '../../src/errors';
import { attr, GraphBuilder } from '../../src/ir/builder';
import { FunctionDef, Graph, Model, Node } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { constantValue, listOperators, foreignDomains } from '../../src/onnx/inspect';
import { loadModel, parseModel } from '../../src/onnx/parse';
import { ModelProto } from '../../src/onnx/schema';
import { serializeModel } from '../../src/onnx/serialize';
import { MODELS, modelDigest, tempDir } from './helpers';

/* eslint-disable @typescript-eslint/no-explicit-any */

const rt = (m: Model) => parseModel(serializeModel(m));

describe('onnx: model parsing', () => {
  it('Constant nodes in every value form decode, and constantValue() reads them', () => {
    const b = new GraphBuilder('c');
    const outs: string[] = [];
    const forms: [string, unknown, number[]][] = [
      ['value', attr.tensor(Tensor.from('float32', [2], [1.5, 2])), [1.5, 2]],
      ['value_float', attr.float(3), [3]],
      ['value_floats', attr.floats([1, 2.5]), [1, 2.5]],
      ['value_int', attr.int(7), [7]],
      ['value_ints', attr.ints([4, 5, 6]), [4, 5, 6]],
    ];
    for (const [k, v] of forms) outs.push(b.node('Constant', [], { [k]: v as never })[0]);
    outs.push(b.node('Constant', [], { value_string: 'hi' })[0]);
    outs.push(b.node('Constant', [], { value_strings: ['a', 'b'] })[0]);
    for (const o of outs) b.output(o);
    const m = rt(b.build());
    const vals = m.graph.nodes.map((n) => constantValue(n)!);
    forms.forEach(([, , want], i) => assert.deepEqual(Array.from(vals[i].toNumbers()), want));
    assert.equal(vals[1].dtype, 'float32');
    assert.equal(vals[3].dtype, 'int64');
    assert.deepEqual(vals[5].data, ['hi']);
    assert.deepEqual(vals[6].data, ['a', 'b']);
    assert.equal(constantValue(new Node({ opType: 'Relu' })), undefined);
  });

  it('a sparse_value Constant (SPARSE_TENSOR attribute) is densified', () => {
    const b = new GraphBuilder('c');
    b.output(b.node('Constant', [], { sparse_value: { type: 'sparse_tensor', value: Tensor.from('float32', [2, 2], [0, 1, 0, 2]) } })[0]);
    const m = rt(b.build());
    const t = constantValue(m.graph.nodes[0])!;
    assert.deepEqual(t.dims, [2, 2]);
    assert.deepEqual(Array.from(t.data as Float32Array), [0, 1, 0, 2]);
  });

  it('value_info, symbolic and unknown dims are kept', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['batch', 3, '?1']);
    const [y] = b.node('Relu', [x]);
    b.valueType(y, 'float32', ['batch', 3, 'T']);
    const [z] = b.node('Neg', [y]);
    b.output(z, 'float32');
    const m = rt(b.build());
    assert.deepEqual(m.graph.types.get('x'), { kind: 'tensor', dtype: 'float32', shape: ['batch', 3, '?1'] });
    assert.deepEqual(m.graph.types.get(y)!.shape, ['batch', 3, 'T']);
    assert.equal(m.graph.types.get(z)!.shape, undefined);
    // a dim with neither value nor param, and a -1 some exporters write, read as anonymous dims
    const msg: any = ModelProto.decode(serializeModel(b.build()));
    msg.graph.input[0].type.tensorType.shape.dim = [{}, { dimValue: -1 }, { dimValue: 4 }];
    assert.deepEqual(parseModel(ModelProto.encode(msg).finish()).graph.types.get('x')!.shape, ['?0', '?1', 4]);
  });

  it('sequence and optional value types', () => {
    const b = new GraphBuilder('g');
    const s = b.typedInput('s', { kind: 'sequence', dtype: 'int64', shape: [2] });
    const o = b.typedInput('o', { kind: 'optional', dtype: 'float32', elemKind: 'sequence' });
    b.output(b.node('SequenceLength', [s])[0]);
    b.output(b.node('OptionalHasElement', [o])[0]);
    const m = rt(b.build());
    assert.deepEqual(m.graph.types.get('s'), { kind: 'sequence', dtype: 'int64', shape: [2] });
    assert.deepEqual(m.graph.types.get('o'), { kind: 'optional', dtype: 'float32', shape: undefined, elemKind: 'sequence' });
  });

  it('every attribute type round-trips', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [1]);
    const body = b.subgraph('body', (s) => { s.output(s.node('Identity', [x])[0]); });
    const [y] = b.node('Custom', [x], {
      f: attr.float(0.5), i: -3, s: 'str', t: Tensor.from('int32', [2], [1, 2]), g: body,
      fs: [0.25, 1.5], is: [1, -2, 2 ** 40], ss: ['a', 'b'], ts: [Tensor.scalar('float32', 1)],
      gs: attr.graphs([]), tp: attr.typeProto({ kind: 'tensor', dtype: 'int8', shape: [2, 'N'] }),
    }, { domain: 'my.domain' });
    b.output(y);
    const m = b.build();
    const back = rt(m);
    assert.deepEqual(modelDigest(back), modelDigest(m));
    const n = back.graph.nodes[0];
    assert.deepEqual([...n.attrs.entries()].map(([k, a]) => `${k}:${a.type}`).sort(),
      ['f:float', 'fs:floats', 'g:graph', 'gs:graphs', 'i:int', 'is:ints', 's:string', 'ss:strings', 't:tensor', 'tp:type_proto', 'ts:tensors']);
    assert.equal(back.opset('my.domain'), 1);
    assert.deepEqual(foreignDomains(back), ['my.domain']);
  });

  it('model-local functions round-trip and are reported as such', () => {
    const b = new GraphBuilder('g', { '': 18, 'local': 1 });
    const x = b.input('x', 'float32', [2]);
    b.output(b.node('Swish', [x], { beta: attr.float(2) }, { domain: 'local' })[0]);
    const m = b.build();
    const fb = new GraphBuilder('Swish');
    const fx = fb.input('X', 'float32');
    const [bx] = fb.node('Mul', [fx, fb.node('Constant', [], { value_float: attr.ref('float', 'beta') })[0]]);
    const [sig] = fb.node('Sigmoid', [bx]);
    fb.node('Mul', [fx, sig], {}, { outputs: ['Y'] });
    const fn: FunctionDef = {
      name: 'Swish', domain: 'local', inputs: ['X'], outputs: ['Y'], attributes: ['beta'],
      attributeDefaults: new Map([['beta', attr.float(1)]]), nodes: fb.graph.nodes, opsets: new Map([['', 18]]),
    };
    m.functions.push(fn);
    const back = rt(m);
    assert.deepEqual(modelDigest(back), modelDigest(m));
    const f = back.functions[0];
    assert.equal(f.nodes[0].attrs.get('value_float')!.refAttrName, 'beta');
    assert.equal(f.attributeDefaults.get('beta')!.value, 1);
    assert.deepEqual(f.attributes, ['beta']);
    const local = listOperators(back).find((d) => d.domain === 'local')!;
    assert.deepEqual(local.ops.map((o) => [o.opType, o.localFunction]), [['Swish', true]]);
    assert.deepEqual(foreignDomains(back), []);
  });

  it('metadata, producer and doc strings are kept; IR < 3 without opsets means ai.onnx 1', () => {
    const b = new GraphBuilder('g');
    b.output(b.input('x', 'float32', [1]));
    const m = b.build({ producerName: 'me' });
    m.metadata.set('k', 'v');
    m.docString = 'doc';
    const back = rt(m);
    assert.equal(back.producerName, 'me');
    assert.equal(back.metadata.get('k'), 'v');
    assert.equal(back.docString, 'doc');
    const old = rt(Object.assign(b.build(), { irVersion: 2, opsets: new Map() }));
    assert.equal(old.opset(''), 1);
  });

  describe('malformed input gives ParseError', () => {
    const good = () => {
      const b = new GraphBuilder('g');
      const x = b.input('x', 'float32', [4]);
      b.output(b.node('Add', [x, b.initializer('w', Tensor.from('float32', [4], [1, 2, 3, 4]))])[0]);
      return serializeModel(b.build());
    };

    it('every truncation of a small model', () => {
      const bytes = good();
      for (let n = 0; n < bytes.length; n++) {
        try {
          parseModel(bytes.subarray(0, n));
        } catch (e) {
          assert.ok(e instanceof ParseError, `truncated at ${n}: ${(e as Error).stack}`);
        }
      }
    });

    it('garbage, empty and non-model files', () => {
      assert.throws(() => parseModel(new Uint8Array(0)), /no graph/);
      assert.throws(() => parseModel(Buffer.from('this is not protobuf at all, just text\n')), ParseError);
      assert.throws(() => parseModel(Buffer.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f])), ParseError); // graph with a 4 GB length
      assert.throws(() => parseModel(Buffer.from([0x0f])), ParseError); // wire type 7
      assert.throws(() => parseModel('x' as never), ParseError);
    });

    it('missing file and directories', () => {
      assert.throws(() => loadModel('/nonexistent/model.onnx'), /ENOENT/);
      assert.throws(() => loadModel(MODELS), ParseError);
    });

    it('structural errors name what is wrong', () => {
      const msg = () => ModelProto.decode(good()) as any;
      const enc = (m: any) => ModelProto.encode(m).finish();
      let m = msg(); m.graph.node[0].opType = '';
      assert.throws(() => parseModel(enc(m)), /no op_type/);
      m = msg(); m.graph.initializer.push(m.graph.initializer[0]);
      assert.throws(() => parseModel(enc(m)), /two initializers named 'w'/);
      m = msg(); m.graph.initializer[0].name = '';
      assert.throws(() => parseModel(enc(m)), /initializer with no name/);
      m = msg(); m.graph.input[0].name = '';
      assert.throws(() => parseModel(enc(m)), /graph input with no name/);
      m = msg(); m.graph.node[0].attribute = [{ name: 'a', type: 99 }];
      assert.throws(() => parseModel(enc(m)), /attribute 'a' has an unknown type 99/);
      m = msg(); m.graph.node[0].attribute = [{ name: 'a', type: 2, i: 1 }, { name: 'a', type: 2, i: 2 }];
      assert.throws(() => parseModel(enc(m)), /attribute 'a' twice/);
      m = msg(); m.opsetImport = [{ domain: '', version: -1 }];
      assert.throws(() => parseModel(enc(m)), /invalid version/);
    });

    it('subgraphs nested deeper than the limit', () => {
      const nested = (levels: number) => {
        let g: any = { name: 'leaf' };
        for (let i = 0; i < levels; i++) g = { name: `g${i}`, node: [{ opType: 'If', input: ['c'], attribute: [{ name: 'then_branch', type: 5, g }] }] };
        return ModelProto.encode({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph: g }).finish();
      };
      assert.equal(parseModel(nested(20)).graph.nodes.length, 1);
      assert.throws(() => parseModel(nested(20), { limits: { maxDepth: 10 } }), /nested more than 10 deep/);
      // past protobufjs's own message nesting limit (100, like protoc)
      const deep = Buffer.concat([Buffer.from([0x3a, 0x80, 0x80, 0x80, 0x01])].concat(Array.from({ length: 60 }, () => Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x01, 0x2a, 0x80, 0x80, 0x80, 0x01, 0x32, 0x80, 0x80, 0x80, 0x01]))));
      assert.throws(() => parseModel(deep), ParseError);
    });

    it('more nodes than limits.maxNodes (subgraphs and functions included) is a ParseError', () => {
      const b = new GraphBuilder('g');
      let x = b.input('x', 'float32', [4]);
      for (let i = 0; i < 3000; i++) [x] = b.node('Relu', [x]);
      b.output(x);
      const bytes = serializeModel(b.build());
      const m = parseModel(bytes);
      assert.equal(m.graph.nodes.length, 3000);
      assert.deepEqual(m.graph.nodes.slice(0, 2).map((n) => n.inputs[0]), ['x', 'Relu_0:0']);
      assert.throws(() => parseModel(bytes, { limits: { maxNodes: 2999 } }), (e: unknown) => e instanceof ParseError && /more than 2999 nodes .*maxNodes/.test(e.message));
      const nested = (levels: number) => {
        let g: any = { name: 'leaf' };
        for (let i = 0; i < levels; i++) g = { name: `g${i}`, node: [{ opType: 'If', input: ['c'], attribute: [{ name: 'then_branch', type: 5, g }] }] };
        return ModelProto.encode({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph: g }).finish();
      };
      assert.equal(parseModel(nested(6), { limits: { maxNodes: 6 } }).graph.nodes.length, 1);
      assert.throws(() => parseModel(nested(6), { limits: { maxNodes: 5 } }), /more than 5 nodes/);
    });

    it('absurd protobuf nesting is a ParseError, not a stack overflow', () => {
      // 200k nested TypeProto.sequence_type headers: a valid prefix that recurses very deeply
      const depth = 200000;
      const parts: number[] = [];
      // ValueInfoProto.type (field 2) -> TypeProto.sequence_type (4) -> Sequence.elem_type (1) -> ...
      // Lengths are written as the maximum the rest could take; decoding fails or overflows.
      for (let i = 0; i < depth; i++) parts.push(0x22, 0x80, 0x80, 0x80, 0x01);
      const inner = Buffer.from(parts);
      const model = Buffer.concat([Buffer.from([0x3a]), Buffer.from([0x80, 0x80, 0x80, 0x01]), Buffer.from([0x5a, 0x80, 0x80, 0x80, 0x01, 0x12, 0x80, 0x80, 0x80, 0x01]), inner]);
      assert.throws(() => parseModel(model), ParseError);
    });
  });

  it('the raw initializers of real model files are views of the file bytes where aligned', function () {
    const files = ['rten-mnist/mnist.onnx', 'silero-vad/silero_vad.onnx', 'mnist-8/model.onnx'].map((f) => path.join(MODELS, f));
    if (!files.every(fs.existsSync)) this.skip();
    let views = 0;
    for (const f of files) {
      const bytes = fs.readFileSync(f);
      const m = parseModel(bytes, { path: f });
      const msg: any = ModelProto.decode(bytes);
      for (const t of msg.graph.initializer) {
        if (!t.rawData?.length || t.dataType !== 1) continue;
        const d = m.graph.initializers.get(t.name)!.data as Float32Array;
        const aligned = t.rawData.byteOffset % 4 === 0;
        assert.equal(d.buffer === bytes.buffer, aligned, `${f}: ${t.name}`);
        if (aligned) views++;
      }
      const { dir, cleanup } = tempDir();
      try {
        fs.writeFileSync(path.join(dir, 'copy.onnx'), serializeModel(m));
        assert.deepEqual(modelDigest(loadModel(path.join(dir, 'copy.onnx'))), modelDigest(m));
      } finally {
        cleanup();
      }
    }
    assert.ok(views > 0);
  });

  it('Graph objects in attributes point at their parent graph', () => {
    const b = new GraphBuilder('outer');
    const c = b.input('c', 'bool', []);
    const x = b.input('x', 'float32', [1]);
    const then = b.subgraph('then', (s) => { s.output(s.node('Identity', [x])[0]); });
    const els = b.subgraph('else', (s) => { s.output(s.node('Neg', [x])[0]); });
    b.output(b.node('If', [c], { then_branch: then, else_branch: els })[0]);
    const m = rt(b.build());
    const g = m.graph.nodes[0].attrs.get('then_branch')!.value as Graph;
    assert.equal(g.parent, m.graph);
    m.graph.verify();
  });
});
