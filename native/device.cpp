#include "device.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "buffer.h"
#include "robustness.h"

namespace vkrt {

static bool cacheHeaderMatches(const std::vector<uint8_t>& blob, VkPhysicalDevice pd) {
  // Header layout: Vulkan spec "Pipeline Cache Header" (VkPipelineCacheHeaderVersionOne, 32 bytes).
  if (blob.size() < 32) return false;
  uint32_t words[4];
  std::memcpy(words, blob.data(), 16);
  VkPhysicalDeviceProperties p;
  vkGetPhysicalDeviceProperties(pd, &p);
  return words[0] >= 32 && words[0] <= blob.size() && words[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
         words[2] == p.vendorID && words[3] == p.deviceID &&
         std::memcmp(blob.data() + 16, p.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

std::shared_ptr<Device> Device::create(const DeviceOptions& o) {
  std::shared_ptr<Device> self(new Device());
  self->self_ = self;
  self->instance_ = Instance::create(o.validation);
  auto infos = self->instance_->describeAll();
  if (infos.empty())
    throw VulkanError("vkEnumeratePhysicalDevices", VK_ERROR_INCOMPATIBLE_DRIVER, "looking for a Vulkan device");
  const DeviceInfo* chosen = nullptr;
  if (o.index < 0) {
    for (auto& d : infos)
      if (d.isDefault) chosen = &d;
    if (!chosen) throw ArgumentError("no Vulkan device has a compute queue and Vulkan 1.1");
  } else {
    if (o.index >= static_cast<int64_t>(infos.size()))
      throw ArgumentError("device index " + std::to_string(o.index) + " is out of range: there are " +
                          std::to_string(infos.size()) + " Vulkan devices (see `vkrt devices`)");
    chosen = &infos[o.index];
    if (!chosen->usable)
      throw ArgumentError("device " + std::to_string(o.index) + " (" + chosen->name +
                          ") has no compute queue or is older than Vulkan 1.1");
  }
  if (o.timeoutMs == 0 || o.timeoutMs > (1ull << 40))
    throw ArgumentError("GPU timeout must be between 1 ms and 2^40 ms, not " + std::to_string(o.timeoutMs));
  self->info_ = *chosen;
  self->forceStaging_ = o.forceStaging;
  self->timeoutMs_ = o.timeoutMs;
  VkPhysicalDevice pd = self->instance_->physicalDevices()[chosen->index];
  self->physical_ = pd;
  vkGetPhysicalDeviceMemoryProperties(pd, &self->memory_);

  // Enable what later kernels need when the device has it: fp16/int8 arithmetic and 8/16-bit
  // storage, integer dot product. Same structure chain as the query in Instance::describe.
  uint32_t api = effectiveApiVersion(*self->instance_, pd);
  bool v12 = api >= VK_API_VERSION_1_2, v13 = api >= VK_API_VERSION_1_3;
  std::vector<const char*> exts;
  bool hasF16I8 = v12 || hasExtension(pd, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  bool has8 = v12 || hasExtension(pd, VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
  bool hasDot = v13 || hasExtension(pd, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  if (!v12 && hasF16I8) exts.push_back(VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  if (!v12 && has8) exts.push_back(VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
  if (!v13 && hasDot) exts.push_back(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  // Cooperative matrices (matrix units), when the driver lists combinations for compute (see
  // Instance::describe): the extensions, their feature, and the Vulkan memory model that GLSL's
  // GL_NV_cooperative_matrix compiles to. No kernel is assumed here; the builder reads the list.
  bool cmKhr = false, cmNv = false;
  for (auto& p : self->info_.cooperativeMatrixProperties) (p.khr ? cmKhr : cmNv) = true;
  bool memModel = (cmKhr || cmNv) && self->info_.vulkanMemoryModel;
  if (cmKhr) exts.push_back(VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
  if (cmNv) exts.push_back(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
  if (memModel && !v12) exts.push_back(VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME);

  VkPhysicalDeviceFeatures2 have{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  VkPhysicalDeviceShaderFloat16Int8Features f16i8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
  VkPhysicalDevice8BitStorageFeatures s8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
  VkPhysicalDeviceShaderIntegerDotProductFeatures dot{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
  have.pNext = &s16;
  void** tail = &s16.pNext;
  if (hasF16I8) { *tail = &f16i8; tail = &f16i8.pNext; }
  if (has8) { *tail = &s8; tail = &s8.pNext; }
  if (hasDot) { *tail = &dot; tail = &dot.pNext; }
  VkPhysicalDeviceCooperativeMatrixFeaturesKHR cmKhrFeat{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR};
  VkPhysicalDeviceCooperativeMatrixFeaturesNV cmNvFeat{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  VkPhysicalDeviceVulkanMemoryModelFeatures memModelFeat{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES};
  if (cmKhr) { *tail = &cmKhrFeat; tail = &cmKhrFeat.pNext; }
  if (cmNv) { *tail = &cmNvFeat; tail = &cmNvFeat.pNext; }
  if (memModel) { *tail = &memModelFeat; tail = &memModelFeat.pNext; }
  vkGetPhysicalDeviceFeatures2(pd, &have);
  // Enable the supported subset of a whitelist; never robustBufferAccess and friends (they cost speed).
  VkPhysicalDeviceFeatures core{};
  core.shaderInt16 = have.features.shaderInt16;
  core.shaderInt64 = have.features.shaderInt64;
  core.shaderFloat64 = have.features.shaderFloat64;
  have.features = core;
  s16.uniformAndStorageBuffer16BitAccess = s16.storagePushConstant16 = s16.storageInputOutput16 = VK_FALSE;
  s8.uniformAndStorageBuffer8BitAccess = s8.storagePushConstant8 = VK_FALSE;
  cmKhrFeat.cooperativeMatrixRobustBufferAccess = cmNvFeat.cooperativeMatrixRobustBufferAccess = VK_FALSE;
  memModelFeat.vulkanMemoryModelAvailabilityVisibilityChains = VK_FALSE;
  RobustAccess robust;  // only on request: files that are not trusted (see native/robustness.h)
  if (o.robustBufferAccess) enableRobustAccess(pd, api, have, exts, robust);
  self->robustness_ = robust.level;

  uint32_t fam = self->info_.computeFamily;
  std::vector<float> priorities(self->info_.computeQueues, 1.0f);
  VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = fam;
  qci.queueCount = self->info_.computeQueues;
  qci.pQueuePriorities = priorities.data();
  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  dci.pNext = &have;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = static_cast<uint32_t>(exts.size());
  dci.ppEnabledExtensionNames = exts.data();
  VK_CALL(vkCreateDevice, pd, &dci, nullptr, &self->device_);

  for (uint32_t i = 0; i < self->info_.computeQueues; i++) {
    VkQueue q;
    vkGetDeviceQueue(self->device_, fam, i, &q);
    self->queues_.push_back(q);
    self->queueLocks_.push_back(std::make_unique<std::mutex>());
  }

  // Pipeline cache: a blob from another driver/device is dropped here rather than trusting every
  // driver to reject it safely.
  VkPipelineCacheCreateInfo pci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  if (!o.pipelineCache.empty() && cacheHeaderMatches(o.pipelineCache, pd)) {
    pci.initialDataSize = o.pipelineCache.size();
    pci.pInitialData = o.pipelineCache.data();
    self->cacheRestored_ = vkCreatePipelineCache(self->device_, &pci, nullptr, &self->cache_) == VK_SUCCESS;
  }
  if (!self->cacheRestored_) {
    pci.initialDataSize = 0;
    pci.pInitialData = nullptr;
    VK_CALL(vkCreatePipelineCache, self->device_, &pci, nullptr, &self->cache_);
  }
  return self;
}

Device::~Device() {
  // Runners are idle here (a queued job holds a program, which holds this device). This destructor
  // may run on a runner thread (the job it just finished held the last reference): that one is
  // detached, the others joined.
  for (auto& r : runners_) {
    if (!r) continue;
    {
      std::lock_guard<std::mutex> lock(r->mutex);
      r->stop = true;
    }
    r->wake.notify_all();
    if (r->thread.get_id() == std::this_thread::get_id())
      r->thread.detach();
    else if (r->thread.joinable())
      r->thread.join();
  }
  if (!device_) return;
  if (hung()) {
    // Abandoned: a job may still be running on the GPU (lavapipe keeps a CPU thread in it), using
    // this device's memory, command buffers and fences. Destroying any of them, or waiting for idle,
    // would be a use-after-free or a wait without end. Leak the device and its instance instead.
    staging_.reset();  // Buffer's destructor skips its Vulkan calls too
    new std::shared_ptr<Instance>(std::move(instance_));  // intentionally never freed
    return;
  }
  vkDeviceWaitIdle(device_);
  staging_.reset();
  if (copyFence_) vkDestroyFence(device_, copyFence_, nullptr);
  if (copyPool_) vkDestroyCommandPool(device_, copyPool_, nullptr);
  if (cache_) vkDestroyPipelineCache(device_, cache_, nullptr);
  vkDestroyDevice(device_, nullptr);
}

std::vector<uint8_t> Device::pipelineCacheData() const {
  size_t n = 0;
  VK_CALL(vkGetPipelineCacheData, device_, cache_, &n, nullptr);
  std::vector<uint8_t> blob(n);
  if (n) VK_CALL(vkGetPipelineCacheData, device_, cache_, &n, blob.data());
  blob.resize(n);
  return blob;
}

void Device::checkQueue(uint32_t index) const {
  if (index >= queues_.size())
    throw ArgumentError("queue index " + std::to_string(index) + " is out of range: the compute family has " +
                        std::to_string(queues_.size()) + " queue(s)");
}

void Device::submit(uint32_t index, VkCommandBuffer cb, VkFence fence) {
  checkQueue(index);
  checkUsable("submitting work");
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  VkResult r;
  {
    std::lock_guard<std::mutex> lock(*queueLocks_[index]);
    r = vkQueueSubmit(queues_[index], 1, &si, fence);
  }
  checkResult(r, "vkQueueSubmit", "submitting on queue " + std::to_string(index));
}

static void runLoop(std::shared_ptr<QueueRunner> r) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(r->mutex);
      r->wake.wait(lock, [&] { return r->stop || !r->jobs.empty(); });
      if (r->jobs.empty()) return;  // stopped and drained
      job = std::move(r->jobs.front());
      r->jobs.pop_front();
    }
    try {
      job();
    } catch (...) {
      // jobs report their own errors; nothing may escape a thread
    }
    job = nullptr;  // drops what the job held here, on this thread (possibly the device itself)
  }
}

void Device::enqueue(uint32_t index, std::function<void()> job) {
  checkQueue(index);
  std::shared_ptr<QueueRunner> r;
  {
    std::lock_guard<std::mutex> lock(runnersMutex_);
    if (runners_.empty()) runners_.resize(queues_.size());
    if (!runners_[index]) {
      auto fresh = std::make_shared<QueueRunner>();
      fresh->thread = std::thread(runLoop, fresh);  // throws std::system_error when out of threads
      runners_[index] = fresh;
    }
    r = runners_[index];
  }
  {
    std::lock_guard<std::mutex> lock(r->mutex);
    r->jobs.push_back(std::move(job));
  }
  r->wake.notify_one();
}

std::string Device::lostReason() const {
  std::lock_guard<std::mutex> lock(healthMutex_);
  return lostReason_;
}

void Device::markLost(Health h, const std::string& reason) {
  std::lock_guard<std::mutex> lock(healthMutex_);
  if (health_.load() != Health::Ok) return;  // the first cause is the one reported
  lostReason_ = reason;
  health_.store(h);
}

void Device::checkUsable(const std::string& what) const {
  Health h = health_.load();
  if (h == Health::Ok) return;
  throw DeviceLostError(what + " refused: the device is unusable since " + lostReason() +
                            "; dispose it and create a new Device",
                        "", VK_ERROR_DEVICE_LOST, h == Health::Hung, timeoutMs_);
}

void Device::checkResult(VkResult r, const char* call, const std::string& context) {
  if (r == VK_ERROR_DEVICE_LOST) {
    std::string reason = std::string(call) + " returned VK_ERROR_DEVICE_LOST" + (context.empty() ? "" : " while " + context);
    markLost(Health::Lost, reason);
    throw DeviceLostError(reason + " (the GPU reset or the driver crashed): the device is unusable; dispose it and "
                          "create a new Device",
                          call, r, false, timeoutMs_);
  }
  check(r, call, context);
}

void Device::waitFence(VkFence fence, const std::string& what) {
  // vkWaitForFences takes nanoseconds; timeoutMs_ <= 2^40, so this cannot overflow.
  VkResult r = vkWaitForFences(device_, 1, &fence, VK_TRUE, timeoutMs_ * 1000000ull);
  if (r == VK_TIMEOUT) {
    std::string t = std::to_string(timeoutMs_) + " ms";
    markLost(Health::Hung, "a GPU job did not finish within the " + t + " GPU timeout (" + what + ")");
    throw DeviceLostError(
        "vkWaitForFences timed out: a GPU job (" + what + ") did not finish within the device's GPU timeout of " +
            t + " (it, or work queued before it on that queue, may still be running). The device is unusable now "
            "and its memory is abandoned, not freed; dispose it and create a new Device. If the work is "
            "legitimately this long, raise the limit with the gpuTimeoutMs device option or VKRT_GPU_TIMEOUT_MS",
        "vkWaitForFences", VK_TIMEOUT, true, timeoutMs_);
  }
  checkResult(r, "vkWaitForFences", what);
}

uint32_t Device::memoryType(uint32_t allowed, MemoryKind kind, bool* hostVisible, bool* coherent) const {
  const VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                              HC = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, CA = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
  bool uma = info_.type == "integrated" || info_.type == "cpu";
  // Preference lists, first match wins. On UMA (integrated GPUs, lavapipe) device-local memory is
  // also host-visible, so "device" buffers are mapped directly and need no staging copies. On a
  // discrete GPU, device buffers avoid the small host-visible BAR heap.
  std::vector<std::pair<VkMemoryPropertyFlags, VkMemoryPropertyFlags>> prefs;  // (required, forbidden)
  switch (kind) {
    case MemoryKind::Device:
      if (uma) prefs.push_back({DL | HV | HC, 0});
      prefs.push_back({DL, HV});
      prefs.push_back({DL, 0});
      prefs.push_back({0, 0});
      break;
    case MemoryKind::Upload:  // written by the host, read once by the GPU: write-combined is best
      if (uma) prefs.push_back({DL | HV | HC, 0});
      prefs.push_back({HV | HC, CA});
      prefs.push_back({HV | HC, 0});
      prefs.push_back({HV, 0});
      break;
    case MemoryKind::Readback:  // read by the host: cached memory makes reads fast
      if (uma) prefs.push_back({DL | HV | HC | CA, 0});
      prefs.push_back({HV | HC | CA, 0});
      prefs.push_back({HV | CA, 0});
      prefs.push_back({HV | HC, 0});
      prefs.push_back({HV, 0});
      break;
  }
  for (auto& [req, forbid] : prefs)
    for (uint32_t i = 0; i < memory_.memoryTypeCount; i++) {
      VkMemoryPropertyFlags f = memory_.memoryTypes[i].propertyFlags;
      if ((allowed & (1u << i)) && (f & req) == req && !(f & forbid)) {
        *hostVisible = (f & HV) != 0;
        *coherent = (f & HC) != 0;
        return i;
      }
    }
  throw ArgumentError("no memory type fits this buffer kind on " + info_.name);
}

std::shared_ptr<Buffer> Device::staging(uint64_t size) {
  if (!staging_ || staging_->size() < size) {
    staging_.reset();
    staging_ = std::make_shared<Buffer>(*this, size, MemoryKind::Readback);  // no owning ref: no cycle
  }
  return staging_;
}

void Device::copyNow(VkBuffer src, uint64_t srcOffset, VkBuffer dst, uint64_t dstOffset, uint64_t size) {
  checkUsable("a staging copy");
  if (!copyPool_) {
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = family();
    VK_CALL(vkCreateCommandPool, device_, &pci, nullptr, &copyPool_);
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = copyPool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VK_CALL(vkAllocateCommandBuffers, device_, &ai, &copyCmd_);
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_CALL(vkCreateFence, device_, &fci, nullptr, &copyFence_);
  }
  VK_CALL(vkResetCommandBuffer, copyCmd_, 0);
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VK_CALL(vkBeginCommandBuffer, copyCmd_, &bi);
  // Earlier GPU work (a program on any queue of this family, awaited by the caller) -> this copy.
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  vkCmdPipelineBarrier(copyCmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  VkBufferCopy region{srcOffset, dstOffset, size};
  vkCmdCopyBuffer(copyCmd_, src, dst, 1, &region);
  mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(copyCmd_, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr,
                       0, nullptr);
  VK_CALL(vkEndCommandBuffer, copyCmd_);
  VK_CALL(vkResetFences, device_, 1, &copyFence_);
  submit(0, copyCmd_, copyFence_);
  waitFence(copyFence_, "a staging copy on queue 0");
}

}  // namespace vkrt
