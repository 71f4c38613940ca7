#include "mailbox.h"

#include <stdexcept>

#include "program.h"

namespace vkrt {

std::shared_ptr<Mailbox> Mailbox::create(napi_env env) {
  auto self = std::make_shared<Mailbox>();
  napi_value name;
  if (napi_create_string_utf8(env, "vkrt.submit", NAPI_AUTO_LENGTH, &name) != napi_ok)
    throw std::runtime_error("could not create the submission mailbox");
  // The finalizer owns one reference, so the context pointer stays valid until it has run.
  auto* keep = new std::shared_ptr<Mailbox>(self);
  napi_status s = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0 /* unbounded queue */, 1, keep,
                                                  finalize, self.get(), callJs, &self->tsfn_);
  if (s != napi_ok) {
    delete keep;
    throw std::runtime_error("could not create the submission mailbox (napi_create_threadsafe_function)");
  }
  napi_unref_threadsafe_function(env, self->tsfn_);  // idle: does not keep the loop alive
  return self;
}

uint64_t Mailbox::add(napi_env env, napi_deferred deferred, std::shared_ptr<Program> program) {
  uint64_t id = nextId_++;
  if (pending_.empty()) napi_ref_threadsafe_function(env, tsfn_);
  pending_.emplace(id, Pending{deferred, std::move(program)});
  return id;
}

void Mailbox::cancel(napi_env env, uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  napi_value undefined;
  if (napi_get_undefined(env, &undefined) == napi_ok) napi_resolve_deferred(env, it->second.deferred, undefined);
  pending_.erase(it);
  if (pending_.empty()) napi_unref_threadsafe_function(env, tsfn_);
}

void Mailbox::post(Outcome* outcome) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_ || napi_call_threadsafe_function(tsfn_, outcome, napi_tsfn_nonblocking) != napi_ok) delete outcome;
}

void Mailbox::finalize(napi_env, void* data, void*) {
  auto* keep = static_cast<std::shared_ptr<Mailbox>*>(data);
  {
    std::lock_guard<std::mutex> lock((*keep)->mutex_);
    (*keep)->closed_ = true;
    (*keep)->tsfn_ = nullptr;
  }
  // Pending deferreds are left unsettled: the environment cannot run JavaScript any more.
  delete keep;
}

void Mailbox::callJs(napi_env env, napi_value, void* context, void* data) {
  std::unique_ptr<Outcome> outcome(static_cast<Outcome*>(data));
  // env is null when the queue is drained at teardown (after finalize): touch nothing then.
  if (!env || !context || !outcome) return;
  static_cast<Mailbox*>(context)->settle(env, outcome->id, outcome.get());
}

// Sets a string property, ignoring failures (settling never throws).
static void setString(napi_env env, napi_value obj, const char* key, const std::string& value) {
  napi_value v;
  if (napi_create_string_utf8(env, value.data(), value.size(), &v) == napi_ok) napi_set_named_property(env, obj, key, v);
}

void Mailbox::settle(napi_env env, uint64_t id, const Outcome* o) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (pending_.empty()) napi_unref_threadsafe_function(env, tsfn_);
  p.program->end();
  if (o->kind.empty()) {
    napi_value undefined;
    if (napi_get_undefined(env, &undefined) == napi_ok) napi_resolve_deferred(env, p.deferred, undefined);
  } else {
    napi_value message, error;
    if (napi_create_string_utf8(env, o->message.data(), o->message.size(), &message) == napi_ok &&
        napi_create_error(env, nullptr, message, &error) == napi_ok) {
      setString(env, error, "vkrtKind", o->kind);
      if (!o->call.empty()) setString(env, error, "call", o->call);
      if (!o->result.empty()) setString(env, error, "result", o->result);
      if (o->kind == "lost") {
        setString(env, error, "reason", o->timedOut ? "timeout" : "lost");
        napi_value ms;
        if (napi_create_double(env, static_cast<double>(o->timeoutMs), &ms) == napi_ok)
          napi_set_named_property(env, error, "timeoutMs", ms);
      }
      napi_reject_deferred(env, p.deferred, error);
    }
  }
  // If the environment is stopping, a call above may have left an exception pending: drop it.
  bool pendingException = false;
  if (napi_is_exception_pending(env, &pendingException) == napi_ok && pendingException) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
}

}  // namespace vkrt
