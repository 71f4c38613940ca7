/**
 * The shape specializer the runtime calls (runtime/profiles.ts): the builder's phases for concrete
 * shapes inside an optimization profile, kernels fixed, on the engine's device caps. Importing this
 * module installs it; api/build.ts imports it, so every entry point that can make or load an
 * engine has it.
 */
import { buildPlan } from '../builder/builder';
import { deviceCaps } from '../builder/caps';
import { specializePlan } from '../builder/profiles';
import '../builder/shaders'; // installs the SPIR-V rewrites a compile of a new shader may need
import { setSpecializer } from '../runtime/profiles';

setSpecializer({
  specialize: (plan, device, index, shapes) => specializePlan(plan, index, shapes, deviceCaps(device, plan.profiles?.config ?? {}), buildPlan),
});
