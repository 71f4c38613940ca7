#include "robustness.h"

#include "instance.h"

namespace vkrt {

void enableRobustAccess(VkPhysicalDevice pd, uint32_t, VkPhysicalDeviceFeatures2& features,
                        std::vector<const char*>& extensions, RobustAccess& out) {
  VkPhysicalDeviceFeatures core;
  vkGetPhysicalDeviceFeatures(pd, &core);
  if (!core.robustBufferAccess)
    throw ArgumentError("this device has no robustBufferAccess, so files that are not trusted cannot be run on it safely");
  features.features.robustBufferAccess = VK_TRUE;
  out.level = "core";
  if (!hasExtension(pd, VK_EXT_ROBUSTNESS_2_EXTENSION_NAME)) return;
  VkPhysicalDeviceRobustness2FeaturesEXT have{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ROBUSTNESS_2_FEATURES_EXT};
  VkPhysicalDeviceFeatures2 query{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  query.pNext = &have;
  vkGetPhysicalDeviceFeatures2(pd, &query);
  if (!have.robustBufferAccess2) return;
  out.robustness2 = VkPhysicalDeviceRobustness2FeaturesEXT{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ROBUSTNESS_2_FEATURES_EXT};
  out.robustness2.robustBufferAccess2 = VK_TRUE;
  out.robustness2.pNext = features.pNext;
  features.pNext = &out.robustness2;
  extensions.push_back(VK_EXT_ROBUSTNESS_2_EXTENSION_NAME);
  out.level = "robustness2";
}

}  // namespace vkrt
