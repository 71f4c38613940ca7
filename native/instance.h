// Vulkan instance (optionally with the Khronos validation layer and a debug-utils messenger that
// collects messages), physical-device listing, capabilities and the default-device rule.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common.h"
#include "coopmat.h"

namespace vkrt {

struct MemoryHeap {
  uint64_t size;
  bool deviceLocal;
};

// Everything `vkrt devices` reports about one physical device.
struct DeviceInfo {
  uint32_t index;  // position in vkEnumeratePhysicalDevices
  std::string name;
  uint32_t vendorId, deviceId;
  std::string type;  // discrete | integrated | virtual | cpu | other
  std::string driverName, driverInfo, driverVersion;
  uint32_t driverVersionRaw;
  std::string apiVersion;  // "1.3.239"
  uint32_t apiVersionRaw;
  bool fp16, int8, int8DotProduct, int8DotProductAccelerated;
  std::vector<std::string> cooperativeMatrix;  // extension names present
  // Supported combinations from vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR/NV, KHR first;
  // listed only where the extension's cooperativeMatrix feature is on and compute shaders may use it.
  std::vector<CoopMatProperty> cooperativeMatrixProperties;
  bool vulkanMemoryModel;  // the feature (the NV GLSL extension compiles to the Vulkan memory model)
  uint32_t subgroupSize;
  float timestampPeriodNs;
  uint32_t timestampValidBits;
  uint32_t computeFamily, computeQueues;
  bool computeOnlyFamily;
  std::vector<MemoryHeap> heaps;
  uint32_t maxComputeWorkGroupCount[3], maxComputeWorkGroupSize[3], maxComputeWorkGroupInvocations;
  uint32_t maxComputeSharedMemorySize;
  uint64_t maxStorageBufferRange, minStorageBufferOffsetAlignment, maxMemoryAllocationSize;
  uint64_t maxBufferSize = 0;  // VkPhysicalDeviceMaintenance4Properties (Vulkan 1.3); 0: not reported
  uint32_t maxPushConstantsSize;
  std::string pipelineCacheUUID;  // 32 hex digits
  bool usable;                    // has a compute queue and Vulkan >= 1.1
  bool isDefault;                 // the device create() picks when no index is given
};

class Instance {
 public:
  // validation: enable VK_LAYER_KHRONOS_validation and collect its messages (throws if missing).
  static std::shared_ptr<Instance> create(bool validation);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  VkInstance handle() const { return instance_; }
  uint32_t apiVersion() const { return apiVersion_; }
  bool validation() const { return messenger_ != VK_NULL_HANDLE; }
  std::vector<VkPhysicalDevice> physicalDevices() const;
  DeviceInfo describe(VkPhysicalDevice pd, uint32_t index) const;
  std::vector<DeviceInfo> describeAll() const;  // with isDefault set
  std::vector<std::string> drainMessages();

  struct Log {
    std::mutex mutex;
    std::vector<std::string> messages;
  };

 private:
  Instance() = default;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  uint32_t apiVersion_ = VK_API_VERSION_1_1;
  std::unique_ptr<Log> log_ = std::make_unique<Log>();
};

// Version of the API the device may be used with: min(instance, device).
uint32_t effectiveApiVersion(const Instance& inst, VkPhysicalDevice pd);
bool hasExtension(VkPhysicalDevice pd, const char* name);
// Queue family used for compute: a compute-only family if there is one, else the first with compute.
// Returns UINT32_MAX when there is none.
uint32_t pickComputeFamily(VkPhysicalDevice pd);

}  // namespace vkrt
