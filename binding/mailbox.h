// Hands the outcome of each submission from a queue runner thread (native/device.cpp) to the
// JavaScript thread, which settles the submission's promise. One mailbox per Node environment (the
// main thread and each worker), over one thread-safe function.
//
// Teardown rules (a worker terminated or a renderer reloaded while GPU work is in flight):
// - the thread-safe function's finalizer marks the mailbox closed; runner threads check the flag
//   under the mailbox's lock before every call, so no call reaches a finalized function;
// - outcomes that arrive after that, or are still queued at teardown, are freed without touching
//   JavaScript;
// - settling uses the plain C API and ignores its status: nothing on this path throws (a C++
//   exception here would reach std::terminate, the crash of issue 13).
// The function is referenced (keeps the event loop alive) only while submissions are pending.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vkrt {

class Program;

// What a runner reports about one submission. `kind` is empty on success, else a vkrtKind.
struct Outcome {
  uint64_t id = 0;
  std::string kind, message, call, result;
  bool timedOut = false;  // kind 'lost': the cause is the GPU timeout (not VK_ERROR_DEVICE_LOST)
  uint64_t timeoutMs = 0;
};

class Mailbox {
 public:
  // JS thread. Throws std::runtime_error when the thread-safe function cannot be created.
  static std::shared_ptr<Mailbox> create(napi_env env);
  Mailbox() = default;
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // JS thread: registers a pending submission (its deferred promise and program); returns its id.
  uint64_t add(napi_env env, napi_deferred deferred, std::shared_ptr<Program> program);
  // JS thread: forgets a submission that was never queued (resolves its unseen promise to free it).
  void cancel(napi_env env, uint64_t id);
  // Any thread: delivers an outcome (taking ownership), or frees it once the environment is gone.
  void post(Outcome* outcome);

 private:
  static void callJs(napi_env env, napi_value, void* context, void* data);
  static void finalize(napi_env env, void* data, void* hint);
  void settle(napi_env env, uint64_t id, const Outcome* outcome);

  std::mutex mutex_;  // guards tsfn_ calls against finalization
  napi_threadsafe_function tsfn_ = nullptr;
  bool closed_ = false;
  struct Pending {
    napi_deferred deferred;
    std::shared_ptr<Program> program;
  };
  std::unordered_map<uint64_t, Pending> pending_;  // JS thread only
  uint64_t nextId_ = 1;
};

}  // namespace vkrt
