// createPipelineAsync(desc) -> Promise<Pipeline>: the same checks and Vulkan calls as
// createPipeline, on a libuv worker thread. Drivers that compile pipelines on the CPU (lavapipe:
// LLVM, tens of ms each) then leave the JS thread free while an engine is made. VkDevice object
// creation is thread-safe, and the pipeline cache is internally synchronized; the worker holds the
// device (shared_ptr) so a dispose() meanwhile cannot free it under the compile.
#include "wrap.h"

namespace vkrt {

class PipelineWorker : public Napi::AsyncWorker {
 public:
  PipelineWorker(Napi::Env env, std::shared_ptr<Device> device, PipelineDesc desc)
      : Napi::AsyncWorker(env, "vkrt.createPipeline"), deferred_(Napi::Promise::Deferred::New(env)),
        device_(std::move(device)), desc_(std::move(desc)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      pipeline_ = std::make_shared<Pipeline>(device_, desc_);
    } catch (...) {
      error_ = std::current_exception();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      Napi::Value v = guard(env, [&]() -> Napi::Value {
        if (error_) std::rethrow_exception(error_);
        auto* data = env.GetInstanceData<AddonData>();
        return adoptNew(data->pipeline, env, pipeline_);
      });
      deferred_.Resolve(v);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Device> device_;
  PipelineDesc desc_;
  std::shared_ptr<Pipeline> pipeline_;
  std::exception_ptr error_;
};

Napi::Value DeviceWrap::CreatePipelineAsync(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto& d = get(info.Env());
    auto* w = new PipelineWorker(info.Env(), d, toPipelineDesc(info[0]));
    auto promise = w->promise();
    w->Queue();
    return promise;
  });
}

}  // namespace vkrt
