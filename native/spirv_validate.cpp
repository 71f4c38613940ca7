#include "spirv_validate.h"

#include <spirv-tools/libspirv.h>

#include <map>
#include <memory>

#include "common.h"

namespace vkrt {

namespace {

// Opcodes, execution modes and decorations from the SPIR-V specification (unified1).
enum : uint32_t {
  OpEntryPoint = 15, OpExecutionMode = 16, OpConstant = 43, OpConstantComposite = 44, OpSpecConstant = 50,
  OpSpecConstantComposite = 51, OpDecorate = 71, OpExecutionModeId = 331, ModeLocalSize = 17, ModeLocalSizeId = 38,
  DecSpecId = 1, DecBuiltIn = 11, BuiltInWorkgroupSize = 25, ModelGLCompute = 5,
  OpTypeVector = 23, OpTypeMatrix = 24, OpTypeArray = 28, OpTypeRuntimeArray = 29, OpTypeStruct = 30,
  OpTypePointer = 32, OpVariable = 59, OpAccessChain = 65, OpInBoundsAccessChain = 66,
};

// Constant indices into arrays of constant length must be in range: the validator allows an
// out-of-range constant index (it is undefined behaviour, not invalid SPIR-V), and a module edited
// that way made the Khronos validation layer (1.3.239) crash while creating its pipeline. Returns
// the first problem, or "".
std::string checkConstantIndices(const std::vector<uint32_t>& w) {
  std::map<uint32_t, uint32_t> literal, pointee, typeOf;
  std::map<uint32_t, std::pair<uint32_t, std::vector<uint32_t>>> types;  // id -> (opcode, operands)
  for (size_t i = 5; i < w.size();) {
    uint32_t count = w[i] >> 16, op = w[i] & 0xffff;
    if (count == 0 || i + count > w.size()) return "";
    const uint32_t* a = &w[i + 1];
    uint32_t n = count - 1;
    switch (op) {
      case OpConstant:
        if (n >= 3) literal[a[1]] = a[2];
        break;
      case OpTypeVector: case OpTypeMatrix: case OpTypeArray: case OpTypeRuntimeArray: case OpTypeStruct:
        if (n >= 1) types[a[0]] = {op, std::vector<uint32_t>(a + 1, a + n)};
        break;
      case OpTypePointer:
        if (n >= 3) pointee[a[0]] = a[2];
        break;
      case OpVariable:
        if (n >= 2) typeOf[a[1]] = a[0];
        break;
      case OpAccessChain: case OpInBoundsAccessChain: {
        if (n < 3) break;
        typeOf[a[1]] = a[0];
        auto base = typeOf.find(a[2]);
        if (base == typeOf.end() || !pointee.count(base->second)) break;
        uint32_t t = pointee[base->second];
        for (uint32_t k = 3; k < n; k++) {
          auto ty = types.find(t);
          if (ty == types.end()) break;
          auto& [top, ops] = ty->second;
          auto idx = literal.find(a[k]);
          if (top == OpTypeStruct) {
            if (idx == literal.end() || idx->second >= ops.size()) break;
            t = ops[idx->second];
          } else if (top == OpTypeArray && ops.size() >= 2) {
            auto len = literal.find(ops[1]);
            if (idx != literal.end() && len != literal.end() && idx->second >= len->second)
              return "constant index " + std::to_string(idx->second) + " into an array of " + std::to_string(len->second) +
                     " elements (OpAccessChain %" + std::to_string(a[1]) + ")";
            t = ops[0];
          } else if ((top == OpTypeVector || top == OpTypeMatrix) && ops.size() >= 2) {
            if (idx != literal.end() && idx->second >= ops[1])
              return "constant index " + std::to_string(idx->second) + " into a vector or matrix of " + std::to_string(ops[1]) +
                     " (OpAccessChain %" + std::to_string(a[1]) + ")";
            t = ops[0];
          } else if (top == OpTypeRuntimeArray && !ops.empty()) {
            t = ops[0];
          } else {
            break;
          }
        }
        break;
      }
    }
    i += count;
  }
  return "";
}

// The workgroup size of the GLCompute entry point: the WorkgroupSize built-in when a constant is
// decorated with it (it overrides the execution mode), else LocalSizeId, else LocalSize.
void readWorkgroup(const std::vector<uint32_t>& w, SpirvValidation& r) {
  std::map<uint32_t, uint32_t> literal, specDefault, specId;
  std::map<uint32_t, std::vector<uint32_t>> composite;
  uint32_t entry = 0, builtin = 0;
  bool haveEntry = false, haveBuiltin = false;
  std::vector<uint32_t> localSize, localSizeId;
  for (size_t i = 5; i < w.size();) {
    uint32_t count = w[i] >> 16, op = w[i] & 0xffff;
    if (count == 0 || i + count > w.size()) return;  // the validator accepted it; be safe anyway
    const uint32_t* a = &w[i + 1];
    uint32_t n = count - 1;
    switch (op) {
      case OpEntryPoint:
        if (n >= 2 && a[0] == ModelGLCompute && !haveEntry) { entry = a[1]; haveEntry = true; }
        break;
      case OpExecutionMode: case OpExecutionModeId:
        if (n >= 5 && haveEntry && a[0] == entry) {
          if (op == OpExecutionMode && a[1] == ModeLocalSize) localSize.assign(a + 2, a + 5);
          if (a[1] == ModeLocalSizeId) localSizeId.assign(a + 2, a + 5);
        }
        break;
      case OpConstant:
        if (n >= 3) literal[a[1]] = a[2];
        break;
      case OpSpecConstant:
        if (n >= 3) specDefault[a[1]] = a[2];
        break;
      case OpConstantComposite: case OpSpecConstantComposite:
        if (n >= 2) composite[a[1]] = std::vector<uint32_t>(a + 2, a + n);
        break;
      case OpDecorate:
        if (n >= 3 && a[1] == DecSpecId) specId[a[0]] = a[2];
        if (n >= 3 && a[1] == DecBuiltIn && a[2] == BuiltInWorkgroupSize) { builtin = a[0]; haveBuiltin = true; }
        break;
    }
    i += count;
  }
  auto axisOf = [&](uint32_t id, WorkgroupAxis& ax) -> bool {
    if (literal.count(id)) { ax.value = literal[id]; return true; }
    if (specDefault.count(id) && specId.count(id)) {
      ax.isSpec = true;
      ax.specId = specId[id];
      ax.value = specDefault[id];
      return true;
    }
    return false;
  };
  std::vector<uint32_t> ids;
  if (haveBuiltin && composite.count(builtin) && composite[builtin].size() == 3) ids = composite[builtin];
  else if (localSizeId.size() == 3) ids = localSizeId;
  if (!ids.empty()) {
    for (int k = 0; k < 3; k++)
      if (!axisOf(ids[k], r.workgroup[k])) return;
    r.hasWorkgroup = true;
  } else if (localSize.size() == 3) {
    for (int k = 0; k < 3; k++) r.workgroup[k].value = localSize[k];
    r.hasWorkgroup = true;
  }
}

}  // namespace

SpirvValidation validateSpirv(const std::vector<uint32_t>& words, const std::string& targetEnv) {
  spv_target_env env;
  if (targetEnv == "vulkan1.1") env = SPV_ENV_VULKAN_1_1;
  else if (targetEnv == "vulkan1.2") env = SPV_ENV_VULKAN_1_2;
  else if (targetEnv == "vulkan1.3") env = SPV_ENV_VULKAN_1_3;
  else throw ArgumentError("targetEnv must be vulkan1.1, vulkan1.2 or vulkan1.3, not '" + targetEnv + "'");
  SpirvValidation r;
  std::unique_ptr<spv_context_t, void (*)(spv_context)> ctx(spvContextCreate(env), spvContextDestroy);
  std::unique_ptr<spv_validator_options_t, void (*)(spv_validator_options)> opts(spvValidatorOptionsCreate(),
                                                                                 spvValidatorOptionsDestroy);
  if (!ctx || !opts) throw std::runtime_error("SPIRV-Tools could not be initialised");
  spv_const_binary_t binary{words.data(), words.size()};
  spv_diagnostic diag = nullptr;
  spv_result_t res = spvValidateWithOptions(ctx.get(), opts.get(), &binary, &diag);
  if (res == SPV_SUCCESS) {
    r.message = checkConstantIndices(words);
    r.valid = r.message.empty();
    if (r.valid) readWorkgroup(words, r);
  } else {
    r.message = diag && diag->error ? diag->error : "invalid SPIR-V (error " + std::to_string(static_cast<int>(res)) + ")";
    // one line: the validator appends the offending instruction on following lines
    std::string line;
    bool space = false;
    for (char c : r.message) {
      bool ws = c == '\n' || c == '\r' || c == ' ' || c == '\t';
      if (ws) { space = !line.empty(); continue; }
      if (space) line += ' ';
      space = false;
      line += c;
    }
    r.message = line;
  }
  spvDiagnosticDestroy(diag);
  return r;
}

}  // namespace vkrt
