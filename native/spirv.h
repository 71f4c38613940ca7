// The few facts vkrt checks in a SPIR-V module before handing it to the driver, so that a
// mismatched pipeline description is an error message and not undefined behaviour.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace vkrt {

struct SpirvFacts {
  bool hasComputeEntry = false;   // an OpEntryPoint GLCompute with the requested name
  std::set<uint32_t> bindings;    // descriptor bindings of set 0 (storage buffers)
  std::vector<std::string> problems;  // other descriptor kinds, other sets, ...
  uint32_t pushConstantBytes = 0; // size of the push-constant block (0: none)
  std::set<uint32_t> specIds;     // SpecId decorations of 32-bit (or bool) spec constants
  std::set<uint32_t> wideSpecIds; // SpecId decorations of spec constants that are not 32-bit
};

// Throws ArgumentError when the words are not a SPIR-V module.
SpirvFacts reflectSpirv(const std::vector<uint32_t>& words, const std::string& entryPoint);

}  // namespace vkrt
