// Validation of SPIR-V modules that vkrt did not compile in this process (engine files): SPIRV-Tools'
// validator (spvValidate, the library behind `spirv-val`), then constant indices into fixed-size
// arrays (in range: the validator leaves that to the driver), plus the module's effective workgroup
// size, which the validator does not relate to the pipeline vkrt makes from it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vkrt {

// One axis of a module's workgroup size: a literal, or a specialization constant (its SpecId and
// default value) that the pipeline's specialization may override.
struct WorkgroupAxis {
  bool isSpec = false;
  uint32_t specId = 0;
  uint32_t value = 0;  // the literal, or the spec constant's default
};

struct SpirvValidation {
  bool valid = false;
  std::string message;             // the validator's first diagnostic when not valid
  bool hasWorkgroup = false;       // a LocalSize/LocalSizeId mode or a WorkgroupSize built-in was found
  WorkgroupAxis workgroup[3];      // the size the GLCompute entry point runs with (valid modules only)
};

// targetEnv: vulkan1.1 | vulkan1.2 | vulkan1.3 (the SPIR-V versions those allow). Never throws for
// a bad module: the result says why it is not valid. Throws ArgumentError for a bad targetEnv.
SpirvValidation validateSpirv(const std::vector<uint32_t>& words, const std::string& targetEnv);

}  // namespace vkrt
