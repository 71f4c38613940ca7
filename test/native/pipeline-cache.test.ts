import { strict as assert } from 'assert';
import { assertNoValidationMessages, openDevice } from '../helpers/gpu';
import { scaleBiasPipeline, scaleBiasPush } from '../helpers/kernels';

describe('native pipeline cache', () => {
  it('round-trips its blob: a device created from it restores it and still builds working pipelines', async () => {
    const first = openDevice();
    const info = first.info;
    assert.equal(info.pipelineCacheRestored, false);
    scaleBiasPipeline(first, 2).dispose();
    scaleBiasPipeline(first, 3).dispose();
    const blob = first.pipelineCacheData();
    assertNoValidationMessages(first, 'the first device');
    first.dispose();

    // Header (Vulkan spec, VkPipelineCacheHeaderVersionOne): length, version 1, vendor, device, UUID.
    assert.ok(blob.length >= 32, `blob of ${blob.length} bytes`);
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    assert.equal(dv.getUint32(4, true), 1);
    assert.equal(dv.getUint32(8, true), info.vendorId);
    assert.equal(dv.getUint32(12, true), info.deviceId);
    assert.equal(Buffer.from(blob.subarray(16, 32)).toString('hex'), info.pipelineCacheUUID);

    const second = openDevice({ pipelineCache: blob });
    try {
      assert.equal(second.info.pipelineCacheRestored, true);
      const p = scaleBiasPipeline(second, 2);
      const x = second.createBuffer(16, 'upload');
      const y = second.createBuffer(16, 'readback');
      x.write(new Float32Array([1, 2, 3, 4]));
      const prog = second.createProgram([{ op: 'dispatch', pipeline: p, bindings: [x, y], push: scaleBiasPush(4, 1), groups: 1 }]);
      await prog.submit();
      assert.deepEqual(y.readFloat32(), new Float32Array([3, 5, 7, 9]));
      const again = second.pipelineCacheData();
      assert.ok(again.length >= 32);
      assert.deepEqual(again.subarray(0, 32), blob.subarray(0, 32));
      assertNoValidationMessages(second, 'the restored device');
    } finally {
      second.dispose();
    }
  });

  it('ignores a blob from another device or a corrupt one instead of crashing', () => {
    const junk = [new Uint8Array(0), new Uint8Array(7), new Uint8Array(64).fill(0xff), (() => {
      const b = new Uint8Array(64);
      new DataView(b.buffer).setUint32(0, 32, true);
      new DataView(b.buffer).setUint32(4, 1, true); // right version, wrong vendor/device/UUID
      return b;
    })()];
    for (const blob of junk) {
      const d = openDevice({ pipelineCache: blob });
      assert.equal(d.info.pipelineCacheRestored, false);
      scaleBiasPipeline(d, 1).dispose();
      assertNoValidationMessages(d, `a device given a ${blob.length}-byte junk blob`);
      d.dispose();
    }
  });
});
