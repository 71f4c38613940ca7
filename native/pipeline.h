// A compute pipeline: shader module + descriptor-set layout of N storage buffers (set 0, bindings
// 0..N-1) + an optional push-constant range + specialization constants, built through the
// device's pipeline cache.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "device.h"

namespace vkrt {

struct SpecConstant {
  uint32_t id;
  uint32_t bits;  // the 32-bit value (int, uint, float bits, or 0/1 for bool)
};

struct PipelineDesc {
  std::vector<uint32_t> spirv;
  std::string entryPoint = "main";
  std::string name;  // for messages
  uint32_t bindingCount = 0;
  uint32_t pushConstantSize = 0;
  std::vector<SpecConstant> specialization;
};

class Pipeline {
 public:
  Pipeline(std::shared_ptr<Device> device, const PipelineDesc& desc);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  const std::string& name() const { return name_; }
  uint32_t bindingCount() const { return bindingCount_; }
  uint32_t pushConstantSize() const { return pushConstantSize_; }
  const std::shared_ptr<Device>& device() const { return device_; }
  VkPipeline handle() const { return pipeline_; }
  VkPipelineLayout layout() const { return layout_; }
  VkDescriptorSetLayout setLayout() const { return setLayout_; }

 private:
  void destroy();
  std::shared_ptr<Device> device_;
  std::string name_;
  uint32_t bindingCount_, pushConstantSize_;
  VkShaderModule module_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout setLayout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
};

}  // namespace vkrt
