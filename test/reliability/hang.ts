/**
 * A GPU job that does not finish: every invocation spins on an atomic counter until it reads a
 * value it will not see for minutes, over 65535 x 65535 workgroups. (lavapipe ends a single
 * invocation's loop after about 65,535 iterations, so the group count is what makes it endless.)
 * Used only inside child processes: on lavapipe the job keeps CPU threads busy until the process
 * exits, so a test runner must never run it itself.
 */
export const HANG_GLSL = `#version 450
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) buffer Counter { uint counter; };
void main() {
  while (true) {
    if (atomicAdd(counter, 1u) == 0xdeadbeefu) break;
  }
}
`;

/**
 * Child-script prelude (CommonJS): requires the GPU layer and errors, and defines
 * `openDevice(options)` (validation as the test run asks) and `hungProgram(device)`.
 */
export function hangPrelude(root: string): string {
  return `
  const { Device } = require(${JSON.stringify(`${root}/src/gpu/index.ts`)});
  const errors = require(${JSON.stringify(`${root}/src/errors.ts`)});
  const HANG_GLSL = ${JSON.stringify(HANG_GLSL)};
  const validation = process.env.VKRT_VALIDATION !== '0';
  const openDevice = (o = {}) => Device.create({ validation, ...o });
  function hungProgram(device) {
    const pipeline = device.createPipeline({ spirv: Device.compileGlsl(HANG_GLSL, { name: 'hang.comp' }), name: 'hang', bindingCount: 1 });
    const counter = device.createBuffer(256, 'device');
    return device.createProgram([{ op: 'dispatch', pipeline, bindings: [counter], groups: [65535, 65535, 1] }]);
  }
  const since = (t0) => Math.round(performance.now() - t0);
  const describe = (e) => (e && e.constructor ? e.constructor.name : typeof e) + ': ' + (e && e.message);
  `;
}
