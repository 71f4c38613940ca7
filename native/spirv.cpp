#include "spirv.h"

#include <algorithm>
#include <functional>
#include <map>

#include "common.h"

namespace vkrt {

// Opcodes and enums from the SPIR-V specification (unified1), section 3.
enum : uint32_t {
  OpEntryPoint = 15, OpTypeBool = 20, OpTypeInt = 21, OpTypeFloat = 22, OpTypeVector = 23, OpTypeMatrix = 24,
  OpTypeArray = 28, OpTypeStruct = 30, OpTypePointer = 32, OpConstant = 43, OpSpecConstantTrue = 48,
  OpSpecConstantFalse = 49, OpSpecConstant = 50, OpVariable = 59, OpDecorate = 71, OpMemberDecorate = 72,
  DecSpecId = 1, DecBlock = 2, DecBufferBlock = 3, DecArrayStride = 6, DecMatrixStride = 7, DecBinding = 33,
  DecDescriptorSet = 34, DecOffset = 35, ScUniformConstant = 0, ScUniform = 2, ScPushConstant = 9,
  ScStorageBuffer = 12, ModelGLCompute = 5,
};

static std::string literalString(const std::vector<uint32_t>& w, size_t start, size_t end) {
  std::string s;
  for (size_t i = start; i < end; i++)
    for (int b = 0; b < 4; b++) {
      char c = static_cast<char>((w[i] >> (8 * b)) & 0xff);
      if (!c) return s;
      s += c;
    }
  return s;
}

SpirvFacts reflectSpirv(const std::vector<uint32_t>& w, const std::string& entry) {
  if (w.size() < 5 || w[0] != 0x07230203)
    throw ArgumentError("not a SPIR-V module (bad magic number or shorter than the 5-word header)");
  SpirvFacts f;
  struct Type { uint32_t op; std::vector<uint32_t> args; };
  std::map<uint32_t, Type> types;
  std::map<uint32_t, uint32_t> constants, specIdOf, descriptorSet, binding, arrayStride;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> memberOffset, matrixStride;
  std::set<uint32_t> blocks, bufferBlocks;
  struct Var { uint32_t id, pointerType, storage; };
  std::vector<Var> vars;
  std::vector<std::pair<uint32_t, uint32_t>> specConstants;  // (result id, type id)

  for (size_t i = 5; i < w.size();) {
    uint32_t count = w[i] >> 16, op = w[i] & 0xffff;
    if (count == 0 || i + count > w.size()) throw ArgumentError("malformed SPIR-V: instruction runs past the end");
    const uint32_t* a = &w[i + 1];
    uint32_t n = count - 1;
    switch (op) {
      case OpEntryPoint:
        if (n >= 3 && a[0] == ModelGLCompute && literalString(w, i + 3, i + count) == entry) f.hasComputeEntry = true;
        break;
      case OpTypeBool: case OpTypeInt: case OpTypeFloat: case OpTypeVector: case OpTypeMatrix:
      case OpTypeArray: case OpTypeStruct: case OpTypePointer:
        if (n >= 1) types[a[0]] = {op, std::vector<uint32_t>(a + 1, a + n)};
        break;
      case OpConstant:
        if (n >= 3) constants[a[1]] = a[2];
        break;
      case OpSpecConstantTrue: case OpSpecConstantFalse: case OpSpecConstant:
        if (n >= 2) specConstants.push_back({a[1], a[0]});
        break;
      case OpVariable:
        if (n >= 3) vars.push_back({a[1], a[0], a[2]});
        break;
      case OpDecorate:
        if (n >= 2) {
          if (a[1] == DecSpecId && n >= 3) specIdOf[a[0]] = a[2];
          if (a[1] == DecDescriptorSet && n >= 3) descriptorSet[a[0]] = a[2];
          if (a[1] == DecBinding && n >= 3) binding[a[0]] = a[2];
          if (a[1] == DecArrayStride && n >= 3) arrayStride[a[0]] = a[2];
          if (a[1] == DecBlock) blocks.insert(a[0]);
          if (a[1] == DecBufferBlock) bufferBlocks.insert(a[0]);
        }
        break;
      case OpMemberDecorate:
        if (n >= 4 && a[2] == DecOffset) memberOffset[{a[0], a[1]}] = a[3];
        if (n >= 4 && a[2] == DecMatrixStride) matrixStride[{a[0], a[1]}] = a[3];
        break;
    }
    i += count;
  }

  // Byte size of a type in an explicitly laid-out block (push constants). Depth-limited.
  std::function<uint32_t(uint32_t, int)> sizeOf = [&](uint32_t id, int depth) -> uint32_t {
    auto it = types.find(id);
    if (it == types.end() || depth > 16) return 0;
    const Type& t = it->second;
    switch (t.op) {
      case OpTypeBool: return 4;
      case OpTypeInt: case OpTypeFloat: return t.args.empty() ? 0 : t.args[0] / 8;
      case OpTypeVector: case OpTypeMatrix: return t.args.size() < 2 ? 0 : t.args[1] * sizeOf(t.args[0], depth + 1);
      case OpTypeArray: {
        if (t.args.size() < 2) return 0;
        uint32_t len = constants.count(t.args[1]) ? constants[t.args[1]] : 0;
        uint32_t stride = arrayStride.count(id) ? arrayStride[id] : sizeOf(t.args[0], depth + 1);
        return len * stride;
      }
      case OpTypeStruct: {
        uint32_t end = 0;
        for (uint32_t m = 0; m < t.args.size(); m++) {
          uint32_t off = memberOffset.count({id, m}) ? memberOffset[{id, m}] : 0;
          uint32_t sz = sizeOf(t.args[m], depth + 1);
          auto ms = matrixStride.find({id, m});
          auto mt = types.find(t.args[m]);
          if (ms != matrixStride.end() && mt != types.end() && mt->second.op == OpTypeMatrix && mt->second.args.size() >= 2)
            sz = mt->second.args[1] * ms->second;
          end = std::max(end, off + sz);
        }
        return end;
      }
      default: return 0;
    }
  };

  for (const Var& v : vars) {
    auto pt = types.find(v.pointerType);
    uint32_t pointee = pt != types.end() && pt->second.args.size() >= 2 ? pt->second.args[1] : 0;
    if (v.storage == ScPushConstant) {
      f.pushConstantBytes = std::max(f.pushConstantBytes, sizeOf(pointee, 0));
    } else if (v.storage == ScStorageBuffer || (v.storage == ScUniform && bufferBlocks.count(pointee))) {
      uint32_t set = descriptorSet.count(v.id) ? descriptorSet[v.id] : 0;
      if (set != 0)
        f.problems.push_back("a storage buffer uses descriptor set " + std::to_string(set) + " (vkrt uses set 0 only)");
      else
        f.bindings.insert(binding.count(v.id) ? binding[v.id] : 0);
    } else if (v.storage == ScUniform) {
      f.problems.push_back("binding " + std::to_string(binding[v.id]) +
                           " is a uniform buffer; vkrt binds storage buffers only (use `buffer`, not `uniform`)");
    } else if (v.storage == ScUniformConstant) {
      f.problems.push_back("binding " + std::to_string(binding[v.id]) +
                           " is an image or sampler; vkrt binds storage buffers only");
    }
  }
  for (auto& [id, type] : specConstants) {
    if (!specIdOf.count(id)) continue;
    auto t = types.find(type);
    bool is32 = t != types.end() && (t->second.op == OpTypeBool ||
                                     ((t->second.op == OpTypeInt || t->second.op == OpTypeFloat) &&
                                      !t->second.args.empty() && t->second.args[0] == 32));
    (is32 ? f.specIds : f.wideSpecIds).insert(specIdOf[id]);
  }
  return f;
}

}  // namespace vkrt
