#include "wrap.h"

namespace vkrt {

Napi::Function BufferWrap::Init(Napi::Env env) {
  return DefineClass(env, "GpuBuffer",
                     {InstanceMethod<&BufferWrap::Write>("write"), InstanceMethod<&BufferWrap::Read>("read"),
                      InstanceMethod<&BufferWrap::ReadInto>("readInto"), InstanceAccessor<&BufferWrap::Size>("size"),
                      InstanceAccessor<&BufferWrap::Kind>("kind"), InstanceAccessor<&BufferWrap::Mapped>("mapped"),
                      disposeMethod(), disposedAccessor()});
}

// write(offset, data: ArrayBufferView)
Napi::Value BufferWrap::Write(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto& b = get(info.Env());
    uint64_t offset = toU64(info[0], "offset");
    auto [p, n] = toBytes(info[1], "data");
    b->write(offset, p, n);
    return info.Env().Undefined();
  });
}

// read(offset, size) -> Uint8Array (a fresh copy)
Napi::Value BufferWrap::Read(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto& b = get(info.Env());
    uint64_t offset = toU64(info[0], "offset"), size = toU64(info[1], "size");
    b->checkRange(offset, size, "read");
    auto out = Napi::Uint8Array::New(info.Env(), size);
    b->read(offset, out.Data(), size);
    return out;
  });
}

// readInto(offset, view): fills the whole view
Napi::Value BufferWrap::ReadInto(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto& b = get(info.Env());
    uint64_t offset = toU64(info[0], "offset");
    auto [p, n] = toBytes(info[1], "target");
    b->read(offset, p, n);
    return info.Env().Undefined();
  });
}

Napi::Value BufferWrap::Size(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(get(info.Env())->size()));
}

Napi::Value BufferWrap::Kind(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), kindName(get(info.Env())->kind()));
}

Napi::Value BufferWrap::Mapped(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), get(info.Env())->mapped());
}

Napi::Function PipelineWrap::Init(Napi::Env env) {
  return DefineClass(env, "Pipeline",
                     {InstanceMethod<&PipelineWrap::Describe>("describe"), disposeMethod(),
                      disposedAccessor()});
}

Napi::Value PipelineWrap::Describe(const Napi::CallbackInfo& info) {
  auto& p = get(info.Env());
  auto o = Napi::Object::New(info.Env());
  o.Set("name", p->name());
  o.Set("bindingCount", p->bindingCount());
  o.Set("pushConstantSize", p->pushConstantSize());
  return o;
}

}  // namespace vkrt
