#include "pipeline.h"

#include <set>

#include "spirv.h"

namespace vkrt {

static std::string list(const std::set<uint32_t>& s) {
  std::string out;
  for (uint32_t v : s) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return out.empty() ? "none" : out;
}

Pipeline::Pipeline(std::shared_ptr<Device> device, const PipelineDesc& d)
    : device_(std::move(device)), name_(d.name.empty() ? "(unnamed)" : d.name),
      bindingCount_(d.bindingCount), pushConstantSize_(d.pushConstantSize) {
  const DeviceInfo& info = device_->info();
  std::string who = "pipeline '" + name_ + "': ";
  device_->checkUsable("creating " + who.substr(0, who.size() - 2));
  // Validate everything against the limits and the shader itself before any Vulkan call.
  if (d.pushConstantSize % 4 != 0)
    throw ArgumentError(who + "pushConstantSize " + std::to_string(d.pushConstantSize) + " is not a multiple of 4");
  if (d.pushConstantSize > info.maxPushConstantsSize)
    throw ArgumentError(who + "pushConstantSize " + std::to_string(d.pushConstantSize) +
                        " exceeds the device's maxPushConstantsSize " + std::to_string(info.maxPushConstantsSize));
  if (d.bindingCount > 64) throw ArgumentError(who + "more than 64 storage-buffer bindings");
  SpirvFacts facts = reflectSpirv(d.spirv, d.entryPoint);
  if (!facts.hasComputeEntry)
    throw ArgumentError(who + "the SPIR-V has no GLCompute entry point named '" + d.entryPoint + "'");
  if (!facts.problems.empty()) throw ArgumentError(who + facts.problems[0]);
  for (uint32_t b : facts.bindings)
    if (b >= d.bindingCount)
      throw ArgumentError(who + "the shader uses binding " + std::to_string(b) + " but the pipeline declares " +
                          std::to_string(d.bindingCount) + " binding(s) (shader bindings: " + list(facts.bindings) + ")");
  if (facts.pushConstantBytes > d.pushConstantSize)
    throw ArgumentError(who + "the shader's push-constant block is " + std::to_string(facts.pushConstantBytes) +
                        " bytes but pushConstantSize is " + std::to_string(d.pushConstantSize));
  std::set<uint32_t> seen;
  for (const SpecConstant& s : d.specialization) {
    if (!seen.insert(s.id).second) throw ArgumentError(who + "specialization constant id " + std::to_string(s.id) + " given twice");
    if (facts.wideSpecIds.count(s.id))
      throw ArgumentError(who + "specialization constant " + std::to_string(s.id) + " is not 32-bit; vkrt sets 32-bit ones only");
    if (!facts.specIds.count(s.id))
      throw ArgumentError(who + "the shader has no specialization constant with id " + std::to_string(s.id) +
                          " (its ids: " + list(facts.specIds) + ")");
  }

  VkDevice dev = device_->handle();
  try {
    VkShaderModuleCreateInfo smci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    smci.codeSize = d.spirv.size() * 4;
    smci.pCode = d.spirv.data();
    VK_CALL(vkCreateShaderModule, dev, &smci, nullptr, &module_);

    std::vector<VkDescriptorSetLayoutBinding> bindings(d.bindingCount);
    for (uint32_t i = 0; i < d.bindingCount; i++)
      bindings[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo dslci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    dslci.bindingCount = d.bindingCount;
    dslci.pBindings = bindings.data();
    VK_CALL(vkCreateDescriptorSetLayout, dev, &dslci, nullptr, &setLayout_);

    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, d.pushConstantSize};
    VkPipelineLayoutCreateInfo plci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    plci.setLayoutCount = 1;
    plci.pSetLayouts = &setLayout_;
    plci.pushConstantRangeCount = d.pushConstantSize ? 1 : 0;
    plci.pPushConstantRanges = &range;
    VK_CALL(vkCreatePipelineLayout, dev, &plci, nullptr, &layout_);

    std::vector<VkSpecializationMapEntry> entries;
    std::vector<uint32_t> data;
    for (const SpecConstant& s : d.specialization) {
      entries.push_back({s.id, static_cast<uint32_t>(data.size() * 4), 4});
      data.push_back(s.bits);
    }
    VkSpecializationInfo spec{static_cast<uint32_t>(entries.size()), entries.data(), data.size() * 4, data.data()};
    VkComputePipelineCreateInfo cpci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    cpci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    cpci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    cpci.stage.module = module_;
    cpci.stage.pName = d.entryPoint.c_str();
    cpci.stage.pSpecializationInfo = entries.empty() ? nullptr : &spec;
    cpci.layout = layout_;
    check(vkCreateComputePipelines(dev, device_->pipelineCache(), 1, &cpci, nullptr, &pipeline_),
          "vkCreateComputePipelines", "creating pipeline '" + name_ + "'");
  } catch (...) {
    destroy();
    throw;
  }
}

void Pipeline::destroy() {
  if (device_->hung()) return;  // abandoned with its device (a hung job may still run it)
  VkDevice dev = device_->handle();
  if (pipeline_) vkDestroyPipeline(dev, pipeline_, nullptr);
  if (layout_) vkDestroyPipelineLayout(dev, layout_, nullptr);
  if (setLayout_) vkDestroyDescriptorSetLayout(dev, setLayout_, nullptr);
  if (module_) vkDestroyShaderModule(dev, module_, nullptr);
  pipeline_ = VK_NULL_HANDLE;
  layout_ = VK_NULL_HANDLE;
  setLayout_ = VK_NULL_HANDLE;
  module_ = VK_NULL_HANDLE;
}

Pipeline::~Pipeline() { destroy(); }

}  // namespace vkrt
