#include "wrap.h"

namespace vkrt {

// Submits and waits for the fence on a libuv worker thread; settles the promise on the JS thread.
class SubmitWorker : public Napi::AsyncWorker {
 public:
  SubmitWorker(Napi::Env env, std::shared_ptr<Program> program, uint32_t queue)
      : Napi::AsyncWorker(env, "vkrt.submit"), deferred_(Napi::Promise::Deferred::New(env)),
        program_(std::move(program)), queue_(queue) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      program_->run(queue_);
    } catch (const VulkanError& e) {
      call_ = e.call;
      result_ = e.result;
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    program_->end();
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    program_->end();
    deferred_.Reject(makeError(Env(), call_.empty() ? "internal" : "vulkan", e.Message(), call_, result_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Program> program_;  // keeps the program alive while in flight, even if disposed
  uint32_t queue_;
  std::string call_, result_;
};

Napi::Function ProgramWrap::Init(Napi::Env env) {
  return DefineClass(env, "Program",
                     {InstanceMethod<&ProgramWrap::Submit>("submit"), InstanceMethod<&ProgramWrap::Timestamps>("timestamps"),
                      InstanceMethod<&ProgramWrap::Describe>("describe"), disposeMethod(),
                      disposedAccessor()});
}

// submit(queue) -> Promise<void>. Throws synchronously when in flight or the queue is invalid.
Napi::Value ProgramWrap::Submit(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto& p = get(info.Env());
    uint32_t queue = info[0].IsUndefined() ? 0 : toU32(info[0], "queue");
    p->begin(queue);
    auto* worker = new SubmitWorker(info.Env(), p, queue);
    Napi::Promise promise = worker->promise();
    worker->Queue();  // node-addon-api deletes the worker after OnOK/OnError
    return promise;
  });
}

// timestamps() -> BigUint64Array of raw ticks from the last completed submit
Napi::Value ProgramWrap::Timestamps(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto ticks = get(info.Env())->timestamps();
    auto out = Napi::BigUint64Array::New(info.Env(), ticks.size());
    for (size_t i = 0; i < ticks.size(); i++) out[i] = ticks[i];
    return out;
  });
}

Napi::Value ProgramWrap::Describe(const Napi::CallbackInfo& info) {
  auto& p = get(info.Env());
  auto o = Napi::Object::New(info.Env());
  o.Set("timestampCount", p->timestampCount());
  o.Set("commandCount", p->commandCount());
  o.Set("busy", p->busy());
  return o;
}

}  // namespace vkrt
