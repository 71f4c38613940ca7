// Robust buffer access for devices that run shaders from files vkrt did not build itself (untrusted
// engine files): out-of-bounds reads and writes of a storage buffer stay inside vkrt's own buffers.
#pragma once
#include <string>
#include <vector>

#include "common.h"

namespace vkrt {

// Feature structures that must live until vkCreateDevice.
struct RobustAccess {
  VkPhysicalDeviceRobustness2FeaturesEXT robustness2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ROBUSTNESS_2_FEATURES_EXT};
  // "robustness2" (VK_EXT_robustness2's robustBufferAccess2: bounds are each binding's range),
  // "core" (robustBufferAccess: bounds are the whole VkBuffer), or "none".
  std::string level = "none";
};

// Enables robustBufferAccess in `features` (already filled by vkGetPhysicalDeviceFeatures2 for
// `pd`) and, where the device has VK_EXT_robustness2 with robustBufferAccess2, that too: its
// structure is chained into `features` and its extension added to `extensions`.
// Throws ArgumentError when the device has no robust buffer access at all.
void enableRobustAccess(VkPhysicalDevice pd, uint32_t apiVersion, VkPhysicalDeviceFeatures2& features,
                        std::vector<const char*>& extensions, RobustAccess& out);

}  // namespace vkrt
