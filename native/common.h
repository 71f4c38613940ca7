// Shared by every native file: the error types and the checked-call macro.
// native/ is plain C++ over Vulkan; it knows nothing of Node (binding/ converts these errors).
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace vkrt {

// Name of a VkResult ("VK_ERROR_DEVICE_LOST"), or "VkResult(<n>)" when unknown.
std::string resultName(VkResult r);

// A Vulkan call failed. `call` is the function name, `result` the VkResult name.
class VulkanError : public std::runtime_error {
 public:
  VulkanError(const std::string& call, VkResult r, const std::string& context = "");
  std::string call;
  std::string result;
  VkResult code;

 protected:
  struct Verbatim {};
  // `message` is the whole message (no "<call> failed with <result>" prefix, no hint).
  VulkanError(Verbatim, const std::string& message, const std::string& call, VkResult r);
};

// The device can no longer run work. `timedOut`: the cause was a GPU job that ran past the device's
// GPU timeout (the job may still be running: the device is abandoned, see Device::hung); otherwise
// the driver reported VK_ERROR_DEVICE_LOST. `call`/`result` name the failing call of *this* error:
// vkWaitForFences/VK_TIMEOUT for the job that timed out, VK_ERROR_DEVICE_LOST for later refusals.
class DeviceLostError : public VulkanError {
 public:
  DeviceLostError(const std::string& message, const std::string& call, VkResult r, bool timedOut,
                  uint64_t timeoutMs);
  bool timedOut;
  uint64_t timeoutMs;
};

// The caller passed something invalid; nothing was done. Thrown before any Vulkan call.
class ArgumentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The object is in a state that forbids the call (a program already in flight, a lost device).
class StateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Throws VulkanError unless r is VK_SUCCESS.
void check(VkResult r, const char* call, const std::string& context = "");

}  // namespace vkrt

// VK_CALL(vkCreateBuffer, dev, &info, nullptr, &buf): calls it and throws naming the function.
#define VK_CALL(fn, ...) ::vkrt::check(fn(__VA_ARGS__), #fn)
