// Logical device: all queues of the chosen compute family, memory-type choice, the pipeline cache,
// one-shot staging copies for buffers the host cannot map, one waiter thread per queue that waits for
// submitted programs in submission order, and the device's health (usable, lost, or hung past the GPU timeout).
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
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
  // GPU timeout: the longest a fence wait may take before the job counts as hung (see Device::hung).
  uint64_t timeoutMs = 60000;
  // Robust buffer access (robustBufferAccess, plus VK_EXT_robustness2 where present) for shaders
  // from files that are not trusted; costs speed, so off unless asked for.
  bool robustBufferAccess = false;
};

// A queue's waiter: one thread that runs jobs (bounded fence waits of submitted programs) in order.
struct QueueRunner {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> jobs;
  bool stop = false;
  std::thread thread;
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
  // "robustness2", "core" or "none": the robust buffer access the device was created with.
  const std::string& robustness() const { return robustness_; }
  std::vector<uint8_t> pipelineCacheData() const;
  std::vector<std::string> drainMessages() { return instance_->drainMessages(); }

  // Submits on queue `index` under that queue's lock (vkQueueSubmit needs external sync).
  void submit(uint32_t index, VkCommandBuffer cb, VkFence fence);
  void checkQueue(uint32_t index) const;

  // Runs `job` on queue `index`'s runner thread (started on first use), after the jobs queued
  // before it. The job must not throw. Jobs hold what they use (a program holds this device), so
  // the device outlives every queued job; its destructor stops the (then idle) runners.
  void enqueue(uint32_t index, std::function<void()> job);

  // Health. A device is *lost* once a call returned VK_ERROR_DEVICE_LOST, and *hung* once a fence
  // wait ran past the GPU timeout. Either way every later submit, copy and object creation throws
  // DeviceLostError. A hung device is also *abandoned*: its job may still run and use its memory,
  // so no Vulkan object of it is ever destroyed (a bounded leak instead of a use-after-free or a
  // destructor that blocks forever).
  uint64_t timeoutMs() const { return timeoutMs_; }
  bool lost() const { return health_.load() != Health::Ok; }
  bool hung() const { return health_.load() == Health::Hung; }
  std::string lostReason() const;
  // Throws DeviceLostError when the device is lost or hung; `what` names the refused operation.
  void checkUsable(const std::string& what) const;
  // Waits for `fence` for at most the GPU timeout. VK_TIMEOUT marks the device hung,
  // VK_ERROR_DEVICE_LOST marks it lost; both throw DeviceLostError. `what`: "running a program on queue 0".
  void waitFence(VkFence fence, const std::string& what);
  // check() that also marks the device lost on VK_ERROR_DEVICE_LOST (throwing DeviceLostError).
  void checkResult(VkResult r, const char* call, const std::string& context = "");

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
  std::string robustness_ = "none";
  // One-shot copy resources (main thread only).
  VkCommandPool copyPool_ = VK_NULL_HANDLE;
  VkCommandBuffer copyCmd_ = VK_NULL_HANDLE;
  VkFence copyFence_ = VK_NULL_HANDLE;
  std::shared_ptr<Buffer> staging_;
  std::weak_ptr<Device> self_;
  uint64_t timeoutMs_ = 60000;
  enum class Health { Ok, Lost, Hung };
  std::atomic<Health> health_{Health::Ok};
  mutable std::mutex healthMutex_;
  std::string lostReason_;  // under healthMutex_: "a GPU job did not finish within the 500 ms GPU timeout (...)"
  void markLost(Health h, const std::string& reason);
  std::mutex runnersMutex_;
  std::vector<std::shared_ptr<QueueRunner>> runners_;  // per queue, created on first use
};

}  // namespace vkrt
