/**
 * The refit planner the runtime calls (runtime/refit.ts): the builder's replan on the engine's
 * device caps. Importing this module installs it; api/build.ts imports it, so every entry point
 * that can make or load an engine has it.
 */
import { buildPlan } from '../builder/builder';
import { deviceCaps } from '../builder/caps';
import { replan, weightsFromModel } from '../builder/refit';
import { loadModel } from '../onnx/parse';
import { setRefitPlanner } from '../runtime/refit';

setRefitPlanner({
  replan: (plan, device, updates) => replan(plan, deviceCaps(device, plan.refit?.config ?? {}), updates, buildPlan),
  onnxWeights: (plan, file) => weightsFromModel(plan.refit!, loadModel(file), file),
});
