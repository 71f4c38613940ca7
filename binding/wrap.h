// node-addon-api wrappers over native/. No Vulkan calls here: argument conversion, lifetime
// (dispose / finalizer), and turning native exceptions into JS errors.
//
// JS errors thrown from here carry `vkrtKind`: 'argument' | 'vulkan' | 'lost' | 'disposed' | 'state' |
// 'compile' | 'internal', plus `call` and `result` for 'vulkan' and 'lost', `reason` and
// `timeoutMs` for 'lost' and `log` for 'compile'.
// src/gpu maps them onto the typed errors of src/errors.ts.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "buffer.h"
#include "device.h"
#include "glsl.h"
#include "mailbox.h"
#include "pipeline.h"
#include "program.h"

namespace vkrt {

struct AddonData {
  Napi::FunctionReference device, buffer, pipeline, program;
  std::shared_ptr<Mailbox> mailbox;  // created on the first submit
};

Napi::Error makeError(Napi::Env env, const std::string& kind, const std::string& message,
                      const std::string& call = "", const std::string& result = "", const std::string& log = "");
// kind 'lost', plus `reason` ('timeout' | 'lost') and `timeoutMs`.
Napi::Error makeLostError(Napi::Env env, const DeviceLostError& e);

// Runs fn, converting native exceptions into JS errors.
template <typename Fn>
Napi::Value guard(Napi::Env env, Fn&& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const DeviceLostError& e) {
    throw makeLostError(env, e);
  } catch (const VulkanError& e) {
    throw makeError(env, "vulkan", e.what(), e.call, e.result);
  } catch (const ArgumentError& e) {
    if (auto* c = dynamic_cast<const CompileError*>(&e)) throw makeError(env, "compile", e.what(), "", "", c->log);
    throw makeError(env, "argument", e.what());
  } catch (const StateError& e) {
    throw makeError(env, "state", e.what());
  } catch (const std::bad_alloc&) {
    throw makeError(env, "argument", "out of host memory");
  } catch (const std::exception& e) {
    throw makeError(env, "internal", e.what());
  }
}

// A pipeline description from JS (createPipeline's argument); throws ArgumentError.
PipelineDesc toPipelineDesc(const Napi::Value& v);

// Argument conversion; each throws ArgumentError naming `what`.
uint64_t toU64(const Napi::Value& v, const std::string& what);
uint32_t toU32(const Napi::Value& v, const std::string& what);
bool toBool(const Napi::Value& v, bool fallback);
std::string toStr(const Napi::Value& v, const std::string& what);
// Bytes of an ArrayBufferView (TypedArray, Buffer or DataView).
std::pair<uint8_t*, size_t> toBytes(const Napi::Value& v, const std::string& what);
Napi::Object toObject(const Napi::Value& v, const std::string& what);

// Every wrapper: holds a shared_ptr to the native object; dispose() drops it (idempotent);
// the finalizer drops it too. get() throws a 'disposed' error after dispose.
template <typename Self, typename T>
class Wrap : public Napi::ObjectWrap<Self> {
 public:
  using Napi::ObjectWrap<Self>::ObjectWrap;
  const std::shared_ptr<T>& get(Napi::Env env) const {
    if (!ptr_) throw makeError(env, "disposed", std::string(Self::kName) + " was used after dispose()");
    return ptr_;
  }
  // dispose() is idempotent; `disposed` says whether it ran.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    ptr_.reset();
    return info.Env().Undefined();
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !ptr_); }
  // DefineClass entries for the two above (member pointers must name the derived class).
  static Napi::ClassPropertyDescriptor<Self> disposeMethod() {
    return Napi::ObjectWrap<Self>::InstanceMethod(
        "dispose", static_cast<Napi::Value (Self::*)(const Napi::CallbackInfo&)>(&Self::Dispose));
  }
  static Napi::ClassPropertyDescriptor<Self> disposedAccessor() {
    return Napi::ObjectWrap<Self>::InstanceAccessor(
        "disposed", static_cast<Napi::Value (Self::*)(const Napi::CallbackInfo&)>(&Self::Disposed), nullptr);
  }
  // Unwraps a JS value that must be an instance of Self.
  static Self* from(Napi::Env env, const Napi::Value& v, Napi::FunctionReference& ctor, const std::string& what) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(ctor.Value()))
      throw ArgumentError(what + " must be a native " + Self::kName);
    return Self::Unwrap(v.As<Napi::Object>());
  }

 protected:
  // Children are created from C++ only: the constructor takes an External holding the pointer.
  void adopt(const Napi::CallbackInfo& info) {
    if (info.Length() != 1 || !info[0].IsExternal())
      throw Napi::TypeError::New(info.Env(), std::string(Self::kName) + " objects are created by a Device");
    ptr_ = *info[0].As<Napi::External<std::shared_ptr<T>>>().Data();
  }
  std::shared_ptr<T> ptr_;
};

class DeviceWrap : public Wrap<DeviceWrap, Device> {
 public:
  static constexpr const char* kName = "Device";
  static Napi::Function Init(Napi::Env env);
  explicit DeviceWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value CreateBuffer(const Napi::CallbackInfo& info);
  Napi::Value CreatePipeline(const Napi::CallbackInfo& info);
  Napi::Value CreatePipelineAsync(const Napi::CallbackInfo& info);  // pipeline_async.cpp
  Napi::Value CreateProgram(const Napi::CallbackInfo& info);
  Napi::Value PipelineCacheData(const Napi::CallbackInfo& info);
  Napi::Value DrainValidationMessages(const Napi::CallbackInfo& info);
  Napi::Value Health(const Napi::CallbackInfo& info);
};

class BufferWrap : public Wrap<BufferWrap, Buffer> {
 public:
  static constexpr const char* kName = "GpuBuffer";
  static Napi::Function Init(Napi::Env env);
  explicit BufferWrap(const Napi::CallbackInfo& info) : Wrap(info) { adopt(info); }

 private:
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value ReadInto(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Kind(const Napi::CallbackInfo& info);
  Napi::Value Mapped(const Napi::CallbackInfo& info);
};

class PipelineWrap : public Wrap<PipelineWrap, Pipeline> {
 public:
  static constexpr const char* kName = "Pipeline";
  static Napi::Function Init(Napi::Env env);
  explicit PipelineWrap(const Napi::CallbackInfo& info) : Wrap(info) { adopt(info); }

 private:
  Napi::Value Describe(const Napi::CallbackInfo& info);
};

class ProgramWrap : public Wrap<ProgramWrap, Program> {
 public:
  static constexpr const char* kName = "Program";
  static Napi::Function Init(Napi::Env env);
  explicit ProgramWrap(const Napi::CallbackInfo& info) : Wrap(info) { adopt(info); }

 private:
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value Timestamps(const Napi::CallbackInfo& info);
  Napi::Value Describe(const Napi::CallbackInfo& info);
};

Napi::Object infoToJs(Napi::Env env, const DeviceInfo& d);

// Creates the JS wrapper of a native object created in C++.
template <typename T>
Napi::Object adoptNew(Napi::FunctionReference& ctor, Napi::Env env, std::shared_ptr<T> ptr) {
  auto ext = Napi::External<std::shared_ptr<T>>::New(env, &ptr);
  return ctor.New({ext});  // the constructor copies the shared_ptr before `ptr` goes out of scope
}

}  // namespace vkrt
