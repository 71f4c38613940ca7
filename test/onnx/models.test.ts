/** The real models in .data/models parse, verify and round-trip through the encoder. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Graph, Model } from '../../src/ir/graph';
import { foreignDomains, listOperators } from '../../src/onnx/inspect';
import { loadModel, parseModel } from '../../src/onnx/parse';
import { serializeModel } from '../../src/onnx/serialize';
import { MODELS, modelDigest, onnxFiles } from './helpers';

const DATA = path.dirname(MODELS);

function roundTrip(m: Model): void {
  const again = parseModel(serializeModel(m));
  const a = modelDigest(m), b = modelDigest(again);
  assert.equal(b.length, a.length);
  for (let i = 0; i < a.length; i++) assert.equal(b[i], a[i], `digest entry ${i} differs`);
}

function hasSubgraph(g: Graph): boolean {
  return g.nodes.some((n) => [...n.attrs.values()].some((a) => a.type === 'graph' || a.type === 'graphs'));
}

describe('onnx: real models', function () {
  before(function () {
    if (!fs.existsSync(MODELS)) this.skip(); // run ../shared/data/unpack.sh .data first
  });

  const expected: [string, { nodes: number; opset: number; inputs?: string[]; subgraphs?: boolean }][] = [
    ['mnist-8/model.onnx', { nodes: 12, opset: 8, inputs: ['Input3'] }],
    ['mnist-8-pytorch-onnx2c/pytorch.onnx', { nodes: 9, opset: 9 }],
    ['mnist-quantized-connxr/model_quantized.onnx', { nodes: 25, opset: 10 }],
    ['rten-mnist/mnist.onnx', { nodes: 13, opset: 18, inputs: ['input'] }],
    ['rten-mnist/mnist-external/mnist.onnx', { nodes: 13, opset: 18, inputs: ['input'] }],
    ['silero-vad/silero_vad.onnx', { nodes: 5, opset: 16, subgraphs: true }],
    ['silero-vad/silero_vad_16k_op15.onnx', { nodes: 121, opset: 15, subgraphs: true }],
    ['silero-vad/silero_vad_half.onnx', { nodes: 96, opset: 16, subgraphs: true }],
    ['silero-vad/silero_vad_op18_ifless.onnx', { nodes: 4, opset: 18, subgraphs: true }],
    ['silero-vad/silero_vad_openvino_16k.onnx', { nodes: 167, opset: 16 }],
    ['silero-vad/silero_vad_v4_from_npm_vad-node-0.0.3.onnx', { nodes: 2, opset: 16, subgraphs: true }],
    ['tfl-helloworld-sine-onnx2c/model.onnx', { nodes: 8, opset: 9 }],
    ['tract-keras-tf2-example/example.onnx', { nodes: 6, opset: 13 }],
    ['velardo-keras-onnx2c/lesson9.onnx', { nodes: 6, opset: 9 }],
    ['velardo-keras-onnx2c/lesson14.onnx', { nodes: 13, opset: 11 }],
    ['wonnx-opt-mnist/opt-mnist.onnx', { nodes: 8, opset: 8 }],
  ];
  for (const [rel, want] of expected) {
    it(`${rel} parses, verifies and round-trips`, () => {
      const m = loadModel(path.join(MODELS, rel));
      assert.equal(m.graph.nodes.length, want.nodes);
      assert.equal(m.opset(''), want.opset);
      if (want.inputs) assert.deepEqual(m.graph.inputs.filter((i) => !m.graph.initializers.has(i)), want.inputs);
      assert.equal(hasSubgraph(m.graph), !!want.subgraphs);
      m.graph.verify();
      roundTrip(m);
    });
  }

  it('mnist-8 cut after each layer (unsorted node lists) verify after topoSort', () => {
    const files = onnxFiles(path.join(MODELS, 'mnist-8-layerwise-connxr'));
    assert.equal(files.length, 12);
    for (const f of files) {
      const m = loadModel(f);
      m.graph.topoSort();
      m.graph.verify();
      roundTrip(m);
    }
  });

  it('repeated node names (OpenVINO export) are made unique', () => {
    const m = loadModel(path.join(MODELS, 'silero-vad', 'silero_vad_openvino_16k.onnx'));
    const names = m.graph.nodes.map((n) => n.name).filter(Boolean);
    assert.equal(new Set(names).size, names.length);
    assert.ok(names.includes('F0::anon__2'));
  });

  it('silero-vad keeps If branches as subgraphs that see outer values', () => {
    const m = loadModel(path.join(MODELS, 'silero-vad', 'silero_vad_16k_op15.onnx'));
    const ifs = m.graph.nodes.filter((n) => n.opType === 'If');
    assert.ok(ifs.length > 0);
    for (const n of ifs) {
      const then = n.attrs.get('then_branch')!.value as Graph;
      const els = n.attrs.get('else_branch')!.value as Graph;
      assert.ok(then instanceof Graph && els instanceof Graph);
      assert.equal(then.parent, m.graph);
      assert.equal(then.outputs.length, n.outputs.length);
    }
  });

  it('listOperators reports domains and ops, subgraphs included', () => {
    const m = loadModel(path.join(MODELS, 'silero-vad', 'silero_vad_v4_from_npm_vad-node-0.0.3.onnx'));
    const l = listOperators(m);
    const onnx = l.find((d) => d.domain === '')!;
    assert.equal(onnx.version, 16);
    assert.ok(onnx.ops.reduce((s, o) => s + o.count, 0) > m.graph.nodes.length, 'subgraph nodes are counted');
    assert.ok(l.some((d) => d.domain === 'com.microsoft' && d.ops.length === 0), 'imported, unused domains are listed');
    assert.deepEqual(foreignDomains(m), []);
  });

  it('every model of the ONNX node suites round-trips (Loop, Scan, sequences, optionals, all dtypes)', function () {
    this.timeout(120000);
    const files = ['onnx-node', 'onnx-node-extra', 'onnx-other'].flatMap((d) => onnxFiles(path.join(DATA, d)));
    if (files.length === 0) this.skip();
    let loops = 0;
    for (const f of files) {
      const m = loadModel(f);
      if (listOperators(m).some((d) => d.ops.some((o) => o.opType === 'Loop' || o.opType === 'Scan'))) loops++;
      try {
        roundTrip(m);
      } catch (e) {
        throw new Error(`${f}: ${(e as Error).message}`);
      }
    }
    assert.ok(loops > 0, `expected Loop/Scan models among ${files.length} models`);
  });
});
