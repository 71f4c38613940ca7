#include "instance.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vkrt {

static VKAPI_ATTR VkBool32 VKAPI_CALL onMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                VkDebugUtilsMessageTypeFlagsEXT,
                                                const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* log = static_cast<Instance::Log*>(user);
  std::string level = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning";
  std::string text = level + ": " + (data && data->pMessage ? data->pMessage : "(no message)");
  std::lock_guard<std::mutex> lock(log->mutex);
  if (log->messages.size() < 1000) log->messages.push_back(text);
  return VK_FALSE;  // never abort the call (the spec requires VK_FALSE from applications)
}

static bool layerPresent(const char* name) {
  uint32_t n = 0;
  VK_CALL(vkEnumerateInstanceLayerProperties, &n, nullptr);
  std::vector<VkLayerProperties> layers(n);
  VK_CALL(vkEnumerateInstanceLayerProperties, &n, layers.data());
  for (auto& l : layers)
    if (std::strcmp(l.layerName, name) == 0) return true;
  return false;
}

static bool instanceExtensionPresent(const char* name, const char* layer = nullptr) {
  uint32_t n = 0;
  VK_CALL(vkEnumerateInstanceExtensionProperties, layer, &n, nullptr);
  std::vector<VkExtensionProperties> exts(n);
  VK_CALL(vkEnumerateInstanceExtensionProperties, layer, &n, exts.data());
  for (auto& e : exts)
    if (std::strcmp(e.extensionName, name) == 0) return true;
  return false;
}

std::shared_ptr<Instance> Instance::create(bool validation) {
  std::shared_ptr<Instance> self(new Instance());
  uint32_t loader = VK_API_VERSION_1_0;
  VK_CALL(vkEnumerateInstanceVersion, &loader);
  if (loader < VK_API_VERSION_1_1)
    throw VulkanError("vkEnumerateInstanceVersion", VK_ERROR_INCOMPATIBLE_DRIVER,
                      "checking the loader version: vkrt needs Vulkan 1.1 or newer");
  self->apiVersion_ = std::min(loader, static_cast<uint32_t>(VK_API_VERSION_1_3));

  const char* layer = "VK_LAYER_KHRONOS_validation";
  std::vector<const char*> layers, extensions;
  if (validation) {
    if (!layerPresent(layer))
      throw VulkanError("vkCreateInstance", VK_ERROR_LAYER_NOT_PRESENT, "enabling VK_LAYER_KHRONOS_validation");
    if (!instanceExtensionPresent(VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
      throw VulkanError("vkCreateInstance", VK_ERROR_EXTENSION_NOT_PRESENT, "enabling VK_EXT_debug_utils");
    layers.push_back(layer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  // Synchronization validation too: it reports missing barriers between dispatches.
  bool syncValidation = validation && instanceExtensionPresent(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME, layer);
  if (syncValidation) extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
  VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = enables;

  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "vkrt";
  app.pEngineName = "vkrt";
  app.apiVersion = self->apiVersion_;

  VkDebugUtilsMessengerCreateInfoEXT dbg{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  dbg.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  dbg.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  dbg.pfnUserCallback = onMessage;
  dbg.pUserData = self->log_.get();

  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  ci.ppEnabledExtensionNames = extensions.data();
  if (validation) ci.pNext = &dbg;  // also reports problems inside vkCreateInstance/vkDestroyInstance
  if (syncValidation) {
    features.pNext = ci.pNext;
    ci.pNext = &features;
  }
  VK_CALL(vkCreateInstance, &ci, nullptr, &self->instance_);

  if (validation) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(self->instance_, "vkCreateDebugUtilsMessengerEXT"));
    if (!create) throw VulkanError("vkGetInstanceProcAddr", VK_ERROR_EXTENSION_NOT_PRESENT, "vkCreateDebugUtilsMessengerEXT");
    VK_CALL(create, self->instance_, &dbg, nullptr, &self->messenger_);
  }
  return self;
}

Instance::~Instance() {
  if (messenger_) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy) destroy(instance_, messenger_, nullptr);
  }
  if (instance_) vkDestroyInstance(instance_, nullptr);
}

std::vector<std::string> Instance::drainMessages() {
  std::lock_guard<std::mutex> lock(log_->mutex);
  std::vector<std::string> out;
  out.swap(log_->messages);
  return out;
}

std::vector<VkPhysicalDevice> Instance::physicalDevices() const {
  uint32_t n = 0;
  VK_CALL(vkEnumeratePhysicalDevices, instance_, &n, nullptr);
  std::vector<VkPhysicalDevice> pds(n);
  if (n) VK_CALL(vkEnumeratePhysicalDevices, instance_, &n, pds.data());
  pds.resize(n);
  return pds;
}

uint32_t effectiveApiVersion(const Instance& inst, VkPhysicalDevice pd) {
  VkPhysicalDeviceProperties p;
  vkGetPhysicalDeviceProperties(pd, &p);
  return std::min(inst.apiVersion(), p.apiVersion);
}

bool hasExtension(VkPhysicalDevice pd, const char* name) {
  uint32_t n = 0;
  VK_CALL(vkEnumerateDeviceExtensionProperties, pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> exts(n);
  VK_CALL(vkEnumerateDeviceExtensionProperties, pd, nullptr, &n, exts.data());
  for (auto& e : exts)
    if (std::strcmp(e.extensionName, name) == 0) return true;
  return false;
}

uint32_t pickComputeFamily(VkPhysicalDevice pd) {
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> fams(n);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
  uint32_t any = UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) {
    if (!(fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || fams[i].queueCount == 0) continue;
    if (!(fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) return i;  // compute-only: the async compute engine
    if (any == UINT32_MAX) any = i;
  }
  return any;
}

// The driver's cooperative-matrix combinations (two-call enumeration). The entry points come from
// vkGetInstanceProcAddr: the loader exports neither; the KHR one is declared in coopmat.h.
static void listCoopMatKhr(VkInstance instance, VkPhysicalDevice pd, std::vector<CoopMatProperty>& out) {
  auto get = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR>(
      vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR"));
  if (!get) return;
  uint32_t n = 0;
  check(get(pd, &n, nullptr), "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
  std::vector<VkCooperativeMatrixPropertiesKHR> props(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR});
  if (n) check(get(pd, &n, props.data()), "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
  props.resize(n);
  for (auto& p : props)
    out.push_back({true, p.MSize, p.NSize, p.KSize, static_cast<uint32_t>(p.AType), static_cast<uint32_t>(p.BType),
                   static_cast<uint32_t>(p.CType), static_cast<uint32_t>(p.ResultType), p.saturatingAccumulation != 0,
                   static_cast<uint32_t>(p.scope)});
}

static void listCoopMatNv(VkInstance instance, VkPhysicalDevice pd, std::vector<CoopMatProperty>& out) {
  auto get = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV>(
      vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV"));
  if (!get) return;
  uint32_t n = 0;
  check(get(pd, &n, nullptr), "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV");
  std::vector<VkCooperativeMatrixPropertiesNV> props(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV});
  if (n) check(get(pd, &n, props.data()), "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV");
  props.resize(n);
  for (auto& p : props)
    out.push_back({false, p.MSize, p.NSize, p.KSize, static_cast<uint32_t>(p.AType), static_cast<uint32_t>(p.BType),
                   static_cast<uint32_t>(p.CType), static_cast<uint32_t>(p.DType), false, static_cast<uint32_t>(p.scope)});
}

static std::string versionString(uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

// Vendors encode driverVersion differently; this follows what vulkaninfo and gpuinfo.org print.
static std::string driverVersionString(uint32_t vendor, uint32_t v) {
  char buf[64];
  if (vendor == 0x10DE)  // NVIDIA: 10.8.8.6 bits
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", (v >> 22) & 0x3ff, (v >> 14) & 0xff, (v >> 6) & 0xff, v & 0x3f);
  else
    return versionString(v);
  return buf;
}

static const char* typeName(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

DeviceInfo Instance::describe(VkPhysicalDevice pd, uint32_t index) const {
  DeviceInfo d{};
  d.index = index;
  uint32_t api = effectiveApiVersion(*this, pd);
  bool v12 = api >= VK_API_VERSION_1_2, v13 = api >= VK_API_VERSION_1_3;

  // Properties. Structures are chained only where the version or extension makes them valid.
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceMaintenance3Properties maint3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDeviceMaintenance4Properties maint4{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES};
  VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceShaderIntegerDotProductProperties dotProps{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES};
  VkPhysicalDeviceCooperativeMatrixPropertiesKHR cmKhrProps{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_KHR};
  VkPhysicalDeviceCooperativeMatrixPropertiesNV cmNvProps{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_NV};
  bool hasDriver = v12 || hasExtension(pd, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);
  bool hasDot = v13 || hasExtension(pd, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  bool hasCmKhr = hasExtension(pd, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
  bool hasCmNv = hasExtension(pd, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
  bool hasMemModel = v12 || hasExtension(pd, VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME);
  bool hasMaint4 = v13 || hasExtension(pd, VK_KHR_MAINTENANCE_4_EXTENSION_NAME);
  props.pNext = &subgroup;
  subgroup.pNext = &maint3;
  void** tail = &maint3.pNext;
  if (hasDriver) { *tail = &driver; tail = &driver.pNext; }
  if (hasMaint4) { *tail = &maint4; tail = &maint4.pNext; }
  if (hasDot) { *tail = &dotProps; tail = &dotProps.pNext; }
  if (hasCmKhr) { *tail = &cmKhrProps; tail = &cmKhrProps.pNext; }
  if (hasCmNv) { *tail = &cmNvProps; tail = &cmNvProps.pNext; }
  vkGetPhysicalDeviceProperties2(pd, &props);
  const VkPhysicalDeviceProperties& p = props.properties;

  // Features.
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  VkPhysicalDeviceShaderFloat16Int8Features f16i8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
  VkPhysicalDevice8BitStorageFeatures s8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
  VkPhysicalDeviceShaderIntegerDotProductFeatures dot{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
  VkPhysicalDeviceCooperativeMatrixFeaturesKHR cmKhr{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR};
  VkPhysicalDeviceCooperativeMatrixFeaturesNV cmNv{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  VkPhysicalDeviceVulkanMemoryModelFeatures memModel{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES};
  bool hasF16I8 = v12 || hasExtension(pd, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  bool has8 = v12 || hasExtension(pd, VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
  feats.pNext = &s16;
  tail = &s16.pNext;
  if (hasF16I8) { *tail = &f16i8; tail = &f16i8.pNext; }
  if (has8) { *tail = &s8; tail = &s8.pNext; }
  if (hasDot) { *tail = &dot; tail = &dot.pNext; }
  if (hasCmKhr) { *tail = &cmKhr; tail = &cmKhr.pNext; }
  if (hasCmNv) { *tail = &cmNv; tail = &cmNv.pNext; }
  if (hasMemModel) { *tail = &memModel; tail = &memModel.pNext; }
  vkGetPhysicalDeviceFeatures2(pd, &feats);

  d.name = p.deviceName;
  d.vendorId = p.vendorID;
  d.deviceId = p.deviceID;
  d.type = typeName(p.deviceType);
  d.driverName = hasDriver ? driver.driverName : "";
  d.driverInfo = hasDriver ? driver.driverInfo : "";
  d.driverVersionRaw = p.driverVersion;
  d.driverVersion = driverVersionString(p.vendorID, p.driverVersion);
  d.apiVersionRaw = p.apiVersion;
  d.apiVersion = versionString(p.apiVersion);
  d.fp16 = hasF16I8 && f16i8.shaderFloat16 && s16.storageBuffer16BitAccess;
  d.int8 = hasF16I8 && f16i8.shaderInt8 && has8 && s8.storageBuffer8BitAccess;
  d.int8DotProduct = hasDot && dot.shaderIntegerDotProduct;
  d.int8DotProductAccelerated = d.int8DotProduct && dotProps.integerDotProduct4x8BitPackedSignedAccelerated;
  for (const char* ext : {"VK_KHR_cooperative_matrix", "VK_NV_cooperative_matrix", "VK_NV_cooperative_matrix2"})
    if (hasExtension(pd, ext)) d.cooperativeMatrix.push_back(ext);
  d.vulkanMemoryModel = hasMemModel && memModel.vulkanMemoryModel;
  if (hasCmKhr && cmKhr.cooperativeMatrix && (cmKhrProps.cooperativeMatrixSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT))
    listCoopMatKhr(instance_, pd, d.cooperativeMatrixProperties);
  if (hasCmNv && cmNv.cooperativeMatrix && (cmNvProps.cooperativeMatrixSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT))
    listCoopMatNv(instance_, pd, d.cooperativeMatrixProperties);
  d.subgroupSize = subgroup.subgroupSize;
  d.timestampPeriodNs = p.limits.timestampPeriod;

  d.computeFamily = pickComputeFamily(pd);
  if (d.computeFamily != UINT32_MAX) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
    std::vector<VkQueueFamilyProperties> fams(n);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
    const auto& fam = fams[d.computeFamily];
    d.computeQueues = fam.queueCount;
    d.timestampValidBits = fam.timestampValidBits;
    d.computeOnlyFamily = !(fam.queueFlags & VK_QUEUE_GRAPHICS_BIT);
  }
  d.usable = d.computeFamily != UINT32_MAX && api >= VK_API_VERSION_1_1;

  VkPhysicalDeviceMemoryProperties mem;
  vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  for (uint32_t i = 0; i < mem.memoryHeapCount; i++)
    d.heaps.push_back({mem.memoryHeaps[i].size, (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});

  for (int i = 0; i < 3; i++) {
    d.maxComputeWorkGroupCount[i] = p.limits.maxComputeWorkGroupCount[i];
    d.maxComputeWorkGroupSize[i] = p.limits.maxComputeWorkGroupSize[i];
  }
  d.maxComputeWorkGroupInvocations = p.limits.maxComputeWorkGroupInvocations;
  d.maxComputeSharedMemorySize = p.limits.maxComputeSharedMemorySize;
  d.maxStorageBufferRange = p.limits.maxStorageBufferRange;
  d.minStorageBufferOffsetAlignment = p.limits.minStorageBufferOffsetAlignment;
  d.maxMemoryAllocationSize = maint3.maxMemoryAllocationSize;
  d.maxBufferSize = hasMaint4 ? maint4.maxBufferSize : 0;
  d.maxPushConstantsSize = p.limits.maxPushConstantsSize;
  static const char* hex = "0123456789abcdef";
  for (uint8_t b : p.pipelineCacheUUID) {
    d.pipelineCacheUUID += hex[b >> 4];
    d.pipelineCacheUUID += hex[b & 15];
  }
  return d;
}

// Default device: discrete GPU first, then integrated, virtual, CPU (lavapipe), others; ties by index.
std::vector<DeviceInfo> Instance::describeAll() const {
  std::vector<DeviceInfo> out;
  auto pds = physicalDevices();
  for (uint32_t i = 0; i < pds.size(); i++) out.push_back(describe(pds[i], i));
  auto rank = [](const std::string& t) {
    static const char* order[] = {"discrete", "integrated", "virtual", "cpu", "other"};
    for (int i = 0; i < 5; i++)
      if (t == order[i]) return i;
    return 5;
  };
  DeviceInfo* best = nullptr;
  for (auto& d : out)
    if (d.usable && (!best || rank(d.type) < rank(best->type))) best = &d;
  if (best) best->isDefault = true;
  return out;
}

}  // namespace vkrt
