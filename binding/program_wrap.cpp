#include "wrap.h"

namespace vkrt {

// Runs on the queue's waiter thread (one per queue, in submission order): bounded fence wait,
// outcome to the mailbox. Never throws.
static void runJob(const std::shared_ptr<Program>& program, uint32_t queue, const std::shared_ptr<Mailbox>& mailbox,
                   uint64_t id) {
  Outcome* o = new (std::nothrow) Outcome();
  if (!o) return;  // out of memory: the promise stays pending (nothing else can be done safely)
  o->id = id;
  try {
    program->wait(queue);
  } catch (const DeviceLostError& e) {
    o->kind = "lost";
    o->message = e.what();
    o->call = e.call;
    o->result = e.result;
    o->timedOut = e.timedOut;
    o->timeoutMs = e.timeoutMs;
  } catch (const VulkanError& e) {
    o->kind = "vulkan";
    o->message = e.what();
    o->call = e.call;
    o->result = e.result;
  } catch (const std::exception& e) {
    o->kind = "internal";
    o->message = e.what();
  } catch (...) {
    o->kind = "internal";
    o->message = "unknown exception while running a program";
  }
  mailbox->post(o);
}

Napi::Function ProgramWrap::Init(Napi::Env env) {
  return DefineClass(env, "Program",
                     {InstanceMethod<&ProgramWrap::Submit>("submit"), InstanceMethod<&ProgramWrap::Timestamps>("timestamps"),
                      InstanceMethod<&ProgramWrap::Describe>("describe"), disposeMethod(),
                      disposedAccessor()});
}

// submit(queue) -> Promise<void>, settled when the GPU finished, failed, or ran past the device's
// GPU timeout. The vkQueueSubmit happens here, on the JS thread, before this returns; the fence is
// awaited by the queue's waiter thread, so several programs can be in flight on one queue (each
// settles in submission order) and no libuv worker is held. Throws synchronously when in flight,
// the queue is invalid, the device is lost or vkQueueSubmit fails.
Napi::Value ProgramWrap::Submit(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    std::shared_ptr<Program> p = get(env);
    uint32_t queue = info[0].IsUndefined() ? 0 : toU32(info[0], "queue");
    auto* data = env.GetInstanceData<AddonData>();
    if (!data->mailbox) data->mailbox = Mailbox::create(env);
    std::shared_ptr<Mailbox> mailbox = data->mailbox;
    p->begin(queue);
    napi_deferred deferred;
    napi_value promise;
    if (napi_create_promise(env, &deferred, &promise) != napi_ok) {
      p->end();
      throw Napi::Error::New(env);
    }
    uint64_t id = mailbox->add(env, deferred, p);
    try {
      p->submit(queue);
    } catch (...) {
      mailbox->cancel(env, id);
      p->end();
      throw;
    }
    try {
      p->device()->enqueue(queue, [p, queue, mailbox, id] { runJob(p, queue, mailbox, id); });
    } catch (...) {
      // no waiter thread (out of threads): the work is submitted, so wait for it here before the
      // program may be submitted again
      try {
        p->wait(queue);
      } catch (...) {
      }
      mailbox->cancel(env, id);
      p->end();
      throw;
    }
    return Napi::Value(env, promise);
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
