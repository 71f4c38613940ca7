#include "common.h"

namespace vkrt {

std::string resultName(VkResult r) {
  switch (r) {
#define CASE(x) \
  case x:       \
    return #x;
    CASE(VK_SUCCESS)
    CASE(VK_NOT_READY)
    CASE(VK_TIMEOUT)
    CASE(VK_EVENT_SET)
    CASE(VK_EVENT_RESET)
    CASE(VK_INCOMPLETE)
    CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    CASE(VK_ERROR_INITIALIZATION_FAILED)
    CASE(VK_ERROR_DEVICE_LOST)
    CASE(VK_ERROR_MEMORY_MAP_FAILED)
    CASE(VK_ERROR_LAYER_NOT_PRESENT)
    CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    CASE(VK_ERROR_TOO_MANY_OBJECTS)
    CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    CASE(VK_ERROR_FRAGMENTED_POOL)
    CASE(VK_ERROR_UNKNOWN)
    CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    CASE(VK_ERROR_FRAGMENTATION)
    CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    CASE(VK_PIPELINE_COMPILE_REQUIRED)
    CASE(VK_ERROR_INVALID_SHADER_NV)
    CASE(VK_ERROR_VALIDATION_FAILED_EXT)
#undef CASE
    default:
      return "VkResult(" + std::to_string(static_cast<int>(r)) + ")";
  }
}

static std::string hint(VkResult r) {
  switch (r) {
    case VK_ERROR_INCOMPATIBLE_DRIVER:
      return " (no Vulkan driver found: install one with `sudo apt-get install mesa-vulkan-drivers` "
             "for the CPU driver lavapipe, or your GPU vendor's driver)";
    case VK_ERROR_LAYER_NOT_PRESENT:
      return " (the Khronos validation layer is missing: `sudo apt-get install vulkan-validationlayers`)";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return " (free buffers with dispose() or use smaller ones)";
    case VK_ERROR_DEVICE_LOST:
      return " (the GPU reset or the driver crashed; dispose this device and create a new one)";
    default:
      return "";
  }
}

VulkanError::VulkanError(const std::string& c, VkResult r, const std::string& context)
    : std::runtime_error(c + " failed with " + resultName(r) + (context.empty() ? "" : " while " + context) +
                         hint(r)),
      call(c),
      result(resultName(r)),
      code(r) {}

VulkanError::VulkanError(Verbatim, const std::string& message, const std::string& c, VkResult r)
    : std::runtime_error(message), call(c), result(resultName(r)), code(r) {}

DeviceLostError::DeviceLostError(const std::string& message, const std::string& c, VkResult r, bool t,
                                 uint64_t ms)
    : VulkanError(Verbatim{}, message, c, r), timedOut(t), timeoutMs(ms) {}

void check(VkResult r, const char* call, const std::string& context) {
  if (r != VK_SUCCESS) throw VulkanError(call, r, context);
}

}  // namespace vkrt
