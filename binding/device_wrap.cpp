#include "wrap.h"

namespace vkrt {

Napi::Function DeviceWrap::Init(Napi::Env env) {
  return DefineClass(env, "Device",
                     {InstanceMethod<&DeviceWrap::Info>("info"),
                      InstanceMethod<&DeviceWrap::CreateBuffer>("createBuffer"),
                      InstanceMethod<&DeviceWrap::CreatePipeline>("createPipeline"),
                      InstanceMethod<&DeviceWrap::CreatePipelineAsync>("createPipelineAsync"),
                      InstanceMethod<&DeviceWrap::CreateProgram>("createProgram"),
                      InstanceMethod<&DeviceWrap::PipelineCacheData>("pipelineCacheData"),
                      InstanceMethod<&DeviceWrap::DrainValidationMessages>("drainValidationMessages"),
                      InstanceMethod<&DeviceWrap::Health>("health"),
                      disposeMethod(),
                      disposedAccessor()});
}

// new Device({index?, validation?, pipelineCache?: Uint8Array, forceStaging?, gpuTimeoutMs?})
DeviceWrap::DeviceWrap(const Napi::CallbackInfo& info) : Wrap(info) {
  guard(info.Env(), [&]() -> Napi::Value {
    DeviceOptions o;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      auto opts = toObject(info[0], "options");
      if (!opts.Get("index").IsUndefined()) o.index = toU32(opts.Get("index"), "options.index");
      o.validation = toBool(opts.Get("validation"), false);
      o.forceStaging = toBool(opts.Get("forceStaging"), false);
      if (!opts.Get("gpuTimeoutMs").IsUndefined()) o.timeoutMs = toU64(opts.Get("gpuTimeoutMs"), "options.gpuTimeoutMs");
      o.robustBufferAccess = toBool(opts.Get("robustBufferAccess"), false);
      if (!opts.Get("pipelineCache").IsUndefined()) {
        auto [p, n] = toBytes(opts.Get("pipelineCache"), "options.pipelineCache");
        o.pipelineCache.assign(p, p + n);
      }
    }
    ptr_ = Device::create(o);
    return info.Env().Undefined();
  });
}

Napi::Value DeviceWrap::Info(const Napi::CallbackInfo& info) {
  auto& d = get(info.Env());
  auto o = infoToJs(info.Env(), d->info());
  o.Set("pipelineCacheRestored", d->pipelineCacheRestored());
  o.Set("queueCount", d->queueCount());
  o.Set("gpuTimeoutMs", static_cast<double>(d->timeoutMs()));
  o.Set("robustBufferAccess", d->robustness());
  return o;
}

// createBuffer(size, kind: 'device' | 'upload' | 'readback')
Napi::Value DeviceWrap::CreateBuffer(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto& d = get(info.Env());
    uint64_t size = toU64(info[0], "size");
    std::string k = info[1].IsUndefined() ? "device" : toStr(info[1], "kind");
    MemoryKind kind = k == "device" ? MemoryKind::Device : k == "upload" ? MemoryKind::Upload
                    : k == "readback" ? MemoryKind::Readback
                    : throw ArgumentError("buffer kind must be 'device', 'upload' or 'readback', not '" + k + "'");
    auto* data = info.Env().GetInstanceData<AddonData>();
    return adoptNew(data->buffer, info.Env(), std::make_shared<Buffer>(d, size, kind));
  });
}

// createPipeline({spirv: Uint32Array, entryPoint?, name?, bindingCount, pushConstantSize?,
//                 specialization?: Uint32Array of (id, bits) pairs})
PipelineDesc toPipelineDesc(const Napi::Value& v) {
  auto o = toObject(v, "pipeline description");
  PipelineDesc desc;
  auto [p, n] = toBytes(o.Get("spirv"), "spirv");
  if (n % 4) throw ArgumentError("spirv must be a whole number of 32-bit words");
  desc.spirv.resize(n / 4);
  std::memcpy(desc.spirv.data(), p, n);
  if (!o.Get("entryPoint").IsUndefined()) desc.entryPoint = toStr(o.Get("entryPoint"), "entryPoint");
  if (!o.Get("name").IsUndefined()) desc.name = toStr(o.Get("name"), "name");
  desc.bindingCount = toU32(o.Get("bindingCount"), "bindingCount");
  if (!o.Get("pushConstantSize").IsUndefined()) desc.pushConstantSize = toU32(o.Get("pushConstantSize"), "pushConstantSize");
  if (!o.Get("specialization").IsUndefined()) {
    auto [sp, sn] = toBytes(o.Get("specialization"), "specialization");
    if (sn % 8) throw ArgumentError("specialization must hold (id, bits) pairs of 32-bit words");
    std::vector<uint32_t> w(sn / 4);
    std::memcpy(w.data(), sp, sn);
    for (size_t i = 0; i < w.size(); i += 2) desc.specialization.push_back({w[i], w[i + 1]});
  }
  return desc;
}

Napi::Value DeviceWrap::CreatePipeline(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto& d = get(info.Env());
    PipelineDesc desc = toPipelineDesc(info[0]);
    auto* data = info.Env().GetInstanceData<AddonData>();
    return adoptNew(data->pipeline, info.Env(), std::make_shared<Pipeline>(d, desc));
  });
}

static BufferRange rangeOf(Napi::Env env, const Napi::Value& v, const std::string& what, bool needRange) {
  auto o = toObject(v, what);
  auto* data = env.GetInstanceData<AddonData>();
  BufferRange r;
  r.buffer = BufferWrap::from(env, o.Get("buffer"), data->buffer, what + ".buffer")->get(env);
  r.offset = toU64(o.Get("offset"), what + ".offset");
  if (needRange) r.range = toU64(o.Get("range"), what + ".range");
  return r;
}

// createProgram(commands): see src/native.ts NativeCommand for the shapes.
Napi::Value DeviceWrap::CreateProgram(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    auto& d = get(env);
    auto* data = env.GetInstanceData<AddonData>();
    if (!info[0].IsArray()) throw ArgumentError("commands must be an array");
    auto list = info[0].As<Napi::Array>();
    std::vector<Command> commands;
    commands.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); i++) {
      std::string who = "commands[" + std::to_string(i) + "]";
      auto o = toObject(list.Get(i), who);
      std::string op = toStr(o.Get("op"), who + ".op");
      Command c{};
      if (op == "dispatch") {
        c.kind = Command::Dispatch;
        c.pipeline = PipelineWrap::from(env, o.Get("pipeline"), data->pipeline, who + ".pipeline")->get(env);
        if (!o.Get("bindings").IsArray()) throw ArgumentError(who + ".bindings must be an array");
        auto bs = o.Get("bindings").As<Napi::Array>();
        for (uint32_t b = 0; b < bs.Length(); b++)
          c.bindings.push_back(rangeOf(env, bs.Get(b), who + ".bindings[" + std::to_string(b) + "]", true));
        if (!o.Get("push").IsUndefined()) {
          auto [p, n] = toBytes(o.Get("push"), who + ".push");
          c.pushConstants.assign(p, p + n);
        }
        if (!o.Get("groups").IsArray()) throw ArgumentError(who + ".groups must be an array [x, y, z]");
        auto g = o.Get("groups").As<Napi::Array>();
        if (g.Length() != 3) throw ArgumentError(who + ".groups must have 3 entries");
        for (uint32_t k = 0; k < 3; k++) c.groups[k] = toU32(g.Get(k), who + ".groups[" + std::to_string(k) + "]");
      } else if (op == "barrier") {
        c.kind = Command::Barrier;
      } else if (op == "timestamp") {
        c.kind = Command::Timestamp;
        c.query = toU32(o.Get("index"), who + ".index");
      } else if (op == "copy") {
        c.kind = Command::Copy;
        c.src = rangeOf(env, o.Get("src"), who + ".src", false);
        c.dst = rangeOf(env, o.Get("dst"), who + ".dst", false);
        c.size = toU64(o.Get("size"), who + ".size");
      } else if (op == "fill") {
        c.kind = Command::Fill;
        c.dst = rangeOf(env, o.Get("dst"), who + ".dst", false);
        c.size = toU64(o.Get("size"), who + ".size");
        c.value = toU32(o.Get("value"), who + ".value");
      } else {
        throw ArgumentError(who + ".op must be dispatch, barrier, timestamp, copy or fill, not '" + op + "'");
      }
      commands.push_back(std::move(c));
    }
    return adoptNew(data->program, env, std::make_shared<Program>(d, std::move(commands)));
  });
}

Napi::Value DeviceWrap::PipelineCacheData(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto blob = get(info.Env())->pipelineCacheData();
    return Napi::Buffer<uint8_t>::Copy(info.Env(), blob.data(), blob.size());
  });
}

Napi::Value DeviceWrap::DrainValidationMessages(const Napi::CallbackInfo& info) {
  auto messages = get(info.Env())->drainMessages();
  auto out = Napi::Array::New(info.Env(), messages.size());
  for (uint32_t i = 0; i < messages.size(); i++) out.Set(i, messages[i]);
  return out;
}

// health() -> {lost, hung, reason}: lost once VK_ERROR_DEVICE_LOST was seen or a job ran past the GPU
// timeout (hung); reason says which call and what happened. Works after the device is lost.
Napi::Value DeviceWrap::Health(const Napi::CallbackInfo& info) {
  auto& d = get(info.Env());
  auto o = Napi::Object::New(info.Env());
  o.Set("lost", d->lost());
  o.Set("hung", d->hung());
  o.Set("reason", d->lostReason());
  return o;
}

}  // namespace vkrt
