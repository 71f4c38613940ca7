// Module entry: the classes plus listDevices() and compileGlsl().
#include <cstring>
#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#endif
#include "glsl.h"
#include "spirv.h"
#include "spirv_validate.h"
#include "wrap.h"

namespace vkrt {

Napi::Object infoToJs(Napi::Env env, const DeviceInfo& d) {
  auto o = Napi::Object::New(env);
  auto arr3 = [&](const uint32_t* v) {
    auto a = Napi::Array::New(env, 3);
    for (uint32_t i = 0; i < 3; i++) a.Set(i, v[i]);
    return a;
  };
  o.Set("index", d.index);
  o.Set("name", d.name);
  o.Set("vendorId", d.vendorId);
  o.Set("deviceId", d.deviceId);
  o.Set("type", d.type);
  o.Set("driverName", d.driverName);
  o.Set("driverInfo", d.driverInfo);
  o.Set("driverVersion", d.driverVersion);
  o.Set("driverVersionRaw", d.driverVersionRaw);
  o.Set("apiVersion", d.apiVersion);
  o.Set("apiVersionRaw", d.apiVersionRaw);
  o.Set("fp16", d.fp16);
  o.Set("int8", d.int8);
  o.Set("int8DotProduct", d.int8DotProduct);
  o.Set("int8DotProductAccelerated", d.int8DotProductAccelerated);
  auto coop = Napi::Array::New(env, d.cooperativeMatrix.size());
  for (uint32_t i = 0; i < d.cooperativeMatrix.size(); i++) coop.Set(i, d.cooperativeMatrix[i]);
  o.Set("cooperativeMatrix", coop);
  // Raw numbers (VkComponentTypeKHR, VkScopeKHR); src/gpu/coopmat.ts names them.
  auto props = Napi::Array::New(env, d.cooperativeMatrixProperties.size());
  for (uint32_t i = 0; i < d.cooperativeMatrixProperties.size(); i++) {
    const auto& p = d.cooperativeMatrixProperties[i];
    auto c = Napi::Object::New(env);
    c.Set("extension", p.khr ? "VK_KHR_cooperative_matrix" : "VK_NV_cooperative_matrix");
    c.Set("M", p.M);
    c.Set("N", p.N);
    c.Set("K", p.K);
    c.Set("A", p.A);
    c.Set("B", p.B);
    c.Set("C", p.C);
    c.Set("result", p.result);
    c.Set("saturatingAccumulation", p.saturatingAccumulation);
    c.Set("scope", p.scope);
    props.Set(i, c);
  }
  o.Set("cooperativeMatrixProperties", props);
  o.Set("vulkanMemoryModel", d.vulkanMemoryModel);
  o.Set("subgroupSize", d.subgroupSize);
  o.Set("timestampPeriodNs", d.timestampPeriodNs);
  o.Set("timestampValidBits", d.timestampValidBits);
  o.Set("computeFamily", d.computeFamily == UINT32_MAX ? env.Null() : Napi::Number::New(env, d.computeFamily));
  o.Set("computeQueues", d.computeQueues);
  o.Set("computeOnlyFamily", d.computeOnlyFamily);
  auto heaps = Napi::Array::New(env, d.heaps.size());
  for (uint32_t i = 0; i < d.heaps.size(); i++) {
    auto h = Napi::Object::New(env);
    h.Set("size", static_cast<double>(d.heaps[i].size));
    h.Set("deviceLocal", d.heaps[i].deviceLocal);
    heaps.Set(i, h);
  }
  o.Set("memoryHeaps", heaps);
  o.Set("maxComputeWorkGroupCount", arr3(d.maxComputeWorkGroupCount));
  o.Set("maxComputeWorkGroupSize", arr3(d.maxComputeWorkGroupSize));
  o.Set("maxComputeWorkGroupInvocations", d.maxComputeWorkGroupInvocations);
  o.Set("maxComputeSharedMemorySize", d.maxComputeSharedMemorySize);
  o.Set("maxStorageBufferRange", static_cast<double>(d.maxStorageBufferRange));
  o.Set("minStorageBufferOffsetAlignment", static_cast<double>(d.minStorageBufferOffsetAlignment));
  o.Set("maxMemoryAllocationSize", static_cast<double>(d.maxMemoryAllocationSize));
  o.Set("maxBufferSize", static_cast<double>(d.maxBufferSize));
  o.Set("maxPushConstantsSize", d.maxPushConstantsSize);
  o.Set("pipelineCacheUUID", d.pipelineCacheUUID);
  o.Set("usable", d.usable);
  o.Set("isDefault", d.isDefault);
  return o;
}

static Napi::Value ListDevices(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto instance = Instance::create(toBool(info[0], false));
    auto infos = instance->describeAll();
    auto out = Napi::Array::New(info.Env(), infos.size());
    for (uint32_t i = 0; i < infos.size(); i++) out.Set(i, infoToJs(info.Env(), infos[i]));
    return out;
  });
}

// compileGlsl(source, {name?, defines?: [name, value][], includeDirs?: string[],
//   includeSources?: [name, source][], targetEnv?, optimize?})
static Napi::Value CompileGlsl(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string source = toStr(info[0], "source");
    GlslOptions o;
    if (info.Length() > 1 && !info[1].IsUndefined()) {
      auto opts = toObject(info[1], "options");
      if (opts.Has("name") && !opts.Get("name").IsUndefined()) o.name = toStr(opts.Get("name"), "options.name");
      if (opts.Has("targetEnv") && !opts.Get("targetEnv").IsUndefined())
        o.targetEnv = toStr(opts.Get("targetEnv"), "options.targetEnv");
      o.optimize = toBool(opts.Get("optimize"), true);
      if (opts.Get("defines").IsArray()) {
        auto defs = opts.Get("defines").As<Napi::Array>();
        for (uint32_t i = 0; i < defs.Length(); i++) {
          auto pair = toObject(defs.Get(i), "options.defines[i]");
          o.defines.push_back({toStr(pair.Get(0u), "define name"), toStr(pair.Get(1u), "define value")});
        }
      }
      if (opts.Get("includeDirs").IsArray()) {
        auto dirs = opts.Get("includeDirs").As<Napi::Array>();
        for (uint32_t i = 0; i < dirs.Length(); i++) o.includeDirs.push_back(toStr(dirs.Get(i), "options.includeDirs[i]"));
      }
      if (opts.Get("includeSources").IsArray()) {
        auto srcs = opts.Get("includeSources").As<Napi::Array>();
        for (uint32_t i = 0; i < srcs.Length(); i++) {
          auto pair = toObject(srcs.Get(i), "options.includeSources[i]");
          o.includeSources.push_back({toStr(pair.Get(0u), "include name"), toStr(pair.Get(1u), "include source")});
        }
      }
    }
    auto words = compileGlsl(source, o);
    auto out = Napi::Uint32Array::New(info.Env(), words.size());
    std::memcpy(out.Data(), words.data(), words.size() * 4);
    return out;
  });
}

// reflectSpirv(spirv: Uint32Array, entryPoint = "main") -> {compute, bindings, pushConstantBytes,
// specIds, problems}: the facts native/spirv.cpp reads, so TypeScript never parses SPIR-V itself.
static Napi::Value ReflectSpirv(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto [p, n] = toBytes(info[0], "spirv");
    if (n % 4) throw ArgumentError("spirv must be a whole number of 32-bit words");
    std::vector<uint32_t> words(n / 4);
    std::memcpy(words.data(), p, n);
    std::string entry = info.Length() > 1 && !info[1].IsUndefined() ? toStr(info[1], "entryPoint") : "main";
    SpirvFacts f = reflectSpirv(words, entry);
    Napi::Env env = info.Env();
    auto toArray = [&](const std::set<uint32_t>& s) {
      auto a = Napi::Array::New(env, s.size());
      uint32_t i = 0;
      for (uint32_t v : s) a.Set(i++, v);
      return a;
    };
    auto o = Napi::Object::New(env);
    o.Set("compute", f.hasComputeEntry);
    o.Set("bindings", toArray(f.bindings));
    o.Set("pushConstantBytes", f.pushConstantBytes);
    o.Set("specIds", toArray(f.specIds));
    auto problems = Napi::Array::New(env, f.problems.size());
    for (uint32_t i = 0; i < f.problems.size(); i++) problems.Set(i, f.problems[i]);
    o.Set("problems", problems);
    return o;
  });
}

// Node unloads (dlclose) an addon when the last worker that loaded it exits. Queue runner threads
// can outlive the environment that submitted (they finish or time out the job, then release it),
// and would then run unmapped code. Pinning the module keeps its code mapped for the process's life.
static void pinModule() {
  static bool pinned = false;
  if (pinned) return;
#ifdef _WIN32
  HMODULE self = nullptr;
  pinned = GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                              reinterpret_cast<LPCWSTR>(&pinModule), &self) != 0;
#else
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&pinModule), &info) && info.dli_fname)
    pinned = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != nullptr;
#endif
}

// validateSpirv(spirv: Uint32Array, targetEnv = "vulkan1.1") -> {valid, message, workgroup}: SPIRV-Tools'
// validator and the module's workgroup size (per axis {spec, id, value}; null when none was found).
static Napi::Value ValidateSpirv(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto [p, n] = toBytes(info[0], "spirv");
    if (n % 4) throw ArgumentError("spirv must be a whole number of 32-bit words");
    std::vector<uint32_t> words(n / 4);
    std::memcpy(words.data(), p, n);
    std::string env = info.Length() > 1 && !info[1].IsUndefined() ? toStr(info[1], "targetEnv") : "vulkan1.1";
    SpirvValidation v = validateSpirv(words, env);
    Napi::Env e = info.Env();
    auto o = Napi::Object::New(e);
    o.Set("valid", v.valid);
    o.Set("message", v.message);
    if (v.hasWorkgroup) {
      auto wg = Napi::Array::New(e, 3);
      for (uint32_t k = 0; k < 3; k++) {
        auto ax = Napi::Object::New(e);
        ax.Set("spec", v.workgroup[k].isSpec);
        ax.Set("id", v.workgroup[k].specId);
        ax.Set("value", v.workgroup[k].value);
        wg.Set(k, ax);
      }
      o.Set("workgroup", wg);
    } else {
      o.Set("workgroup", e.Null());
    }
    return o;
  });
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pinModule();
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);  // deleted by node-addon-api at environment teardown
  auto device = DeviceWrap::Init(env), buffer = BufferWrap::Init(env), pipeline = PipelineWrap::Init(env),
       program = ProgramWrap::Init(env);
  data->device = Napi::Persistent(device);
  data->buffer = Napi::Persistent(buffer);
  data->pipeline = Napi::Persistent(pipeline);
  data->program = Napi::Persistent(program);
  exports.Set("Device", device);
  exports.Set("GpuBuffer", buffer);
  exports.Set("Pipeline", pipeline);
  exports.Set("Program", program);
  exports.Set("listDevices", Napi::Function::New(env, ListDevices, "listDevices"));
  exports.Set("compileGlsl", Napi::Function::New(env, CompileGlsl, "compileGlsl"));
  exports.Set("reflectSpirv", Napi::Function::New(env, ReflectSpirv, "reflectSpirv"));
  exports.Set("validateSpirv", Napi::Function::New(env, ValidateSpirv, "validateSpirv"));
  exports.Set("napiVersion", NAPI_VERSION);
  return exports;
}

}  // namespace vkrt

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vkrt::Init(env, exports); }
NODE_API_MODULE(vkrt, InitModule)
