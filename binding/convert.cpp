// Argument conversion and error objects shared by the wrappers.
#include <cmath>

#include "wrap.h"

namespace vkrt {

Napi::Error makeError(Napi::Env env, const std::string& kind, const std::string& message, const std::string& call,
                      const std::string& result, const std::string& log) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("vkrtKind", kind);
  if (!call.empty()) e.Set("call", call);
  if (!result.empty()) e.Set("result", result);
  if (!log.empty()) e.Set("log", log);
  return e;
}

Napi::Error makeLostError(Napi::Env env, const DeviceLostError& e) {
  Napi::Error err = makeError(env, "lost", e.what(), e.call, e.result);
  err.Set("reason", e.timedOut ? "timeout" : "lost");
  err.Set("timeoutMs", static_cast<double>(e.timeoutMs));
  return err;
}

uint64_t toU64(const Napi::Value& v, const std::string& what) {
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw ArgumentError(what + " must be a non-negative integer below 2^64");
    return x;
  }
  if (!v.IsNumber()) throw ArgumentError(what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d > 9007199254740991.0)
    throw ArgumentError(what + " must be a non-negative integer up to 2^53 - 1, got " + v.ToString().Utf8Value());
  return static_cast<uint64_t>(d);
}

uint32_t toU32(const Napi::Value& v, const std::string& what) {
  uint64_t x = toU64(v, what);
  if (x > 0xffffffffull) throw ArgumentError(what + " must be below 2^32");
  return static_cast<uint32_t>(x);
}

bool toBool(const Napi::Value& v, bool fallback) {
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return v.ToBoolean().Value();
}

std::string toStr(const Napi::Value& v, const std::string& what) {
  if (!v.IsString()) throw ArgumentError(what + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Object toObject(const Napi::Value& v, const std::string& what) {
  if (!v.IsObject()) throw ArgumentError(what + " must be an object");
  return v.As<Napi::Object>();
}

std::pair<uint8_t*, size_t> toBytes(const Napi::Value& v, const std::string& what) {
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    return {static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset(), t.ByteLength()};
  }
  if (v.IsDataView()) {
    auto t = v.As<Napi::DataView>();
    return {static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset(), t.ByteLength()};
  }
  throw ArgumentError(what + " must be a TypedArray, Buffer or DataView");
}

}  // namespace vkrt
