// Logical device: all queues of the chosen compute family, memory-type choice, the pipeline cache
// and one-shot staging copies for buffers the host cannot map.
#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "instance.h"

namespace vkrt {

enum class MemoryKind { Device, Upload, Readback };

struct DeviceOptions {
  int64_t index = -1;  // -1: the default device (see Instance::describeAll)
  bool validation = false;
  std::vector<uint8_t> pipelineCache;  // blob from pipelineCacheData(); empty for none
  // Testing: never map "device" buffers, so reads and writes take the staging path of a discrete GPU.
  bool forceStaging = false;
};

class Buffer;

class Device {
 public:
  static std::shared_ptr<Device> create(const DeviceOptions& options);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  VkDevice handle() const { return device_; }
  VkPhysicalDevice physical() const { return physical_; }
  const DeviceInfo& info() const { return info_; }
  uint32_t family() const { return info_.computeFamily; }
  uint32_t queueCount() const { return static_cast<uint32_t>(queues_.size()); }
  VkPipelineCache pipelineCache() const { return cache_; }
  bool pipelineCacheRestored() const { return cacheRestored_; }
  bool forceStaging() const { return forceStaging_; }
  std::vector<uint8_t> pipelineCacheData() const;
  std::vector<std::string> drainMessages() { return instance_->drainMessages(); }

  // Submits on queue `index` under that queue's lock (vkQueueSubmit needs external sync).
  void submit(uint32_t index, VkCommandBuffer cb, VkFence fence);
  void checkQueue(uint32_t index) const;

  // Memory type index for a buffer of this kind; throws ArgumentError when none fits.
  uint32_t memoryType(uint32_t allowedBits, MemoryKind kind, bool* hostVisible, bool* coherent) const;
  const VkPhysicalDeviceMemoryProperties& memoryProperties() const { return memory_; }

  // Copies between buffers and blocks until done (used for staging; the caller holds no locks).
  void copyNow(VkBuffer src, uint64_t srcOffset, VkBuffer dst, uint64_t dstOffset, uint64_t size);
  // A host-visible, coherent scratch buffer of at least `size` bytes for staging (grown lazily).
  std::shared_ptr<Buffer> staging(uint64_t size);

 private:
  Device() = default;
  std::shared_ptr<Instance> instance_;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  DeviceInfo info_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  std::vector<VkQueue> queues_;
  std::vector<std::unique_ptr<std::mutex>> queueLocks_;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  bool cacheRestored_ = false;
  bool forceStaging_ = false;
  // One-shot copy resources (main thread only).
  VkCommandPool copyPool_ = VK_NULL_HANDLE;
  VkCommandBuffer copyCmd_ = VK_NULL_HANDLE;
  VkFence copyFence_ = VK_NULL_HANDLE;
  std::shared_ptr<Buffer> staging_;
  std::weak_ptr<Device> self_;
};

}  // namespace vkrt
