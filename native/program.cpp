#include "program.h"

#include <set>

namespace vkrt {

Program::Program(std::shared_ptr<Device> device, std::vector<Command> commands)
    : device_(std::move(device)), commands_(std::move(commands)) {
  validate();
  device_->checkUsable("creating a program");
  try {
    record();
  } catch (...) {
    release();
    throw;
  }
}

Program::~Program() { release(); }

void Program::release() {
  if (device_->hung()) return;  // abandoned with its device: the command buffer may still be pending
  VkDevice dev = device_->handle();
  if (fence_) vkDestroyFence(dev, fence_, nullptr);
  if (queryPool_) vkDestroyQueryPool(dev, queryPool_, nullptr);
  if (descriptorPool_) vkDestroyDescriptorPool(dev, descriptorPool_, nullptr);
  if (pool_) vkDestroyCommandPool(dev, pool_, nullptr);
  fence_ = VK_NULL_HANDLE;
  queryPool_ = VK_NULL_HANDLE;
  descriptorPool_ = VK_NULL_HANDLE;
  pool_ = VK_NULL_HANDLE;
}

void Program::validate() {
  const DeviceInfo& info = device_->info();
  std::set<uint32_t> queries;
  auto sameDevice = [&](const Device& d, const std::string& who) {
    if (&d != device_.get()) throw ArgumentError(who + "uses an object created on another device");
  };
  for (size_t i = 0; i < commands_.size(); i++) {
    Command& c = commands_[i];
    std::string who = "command " + std::to_string(i) + ": ";
    switch (c.kind) {
      case Command::Dispatch: {
        if (!c.pipeline) throw ArgumentError(who + "dispatch without a pipeline");
        who = "command " + std::to_string(i) + " (dispatch '" + c.pipeline->name() + "'): ";
        sameDevice(*c.pipeline->device(), who);
        if (c.bindings.size() != c.pipeline->bindingCount())
          throw ArgumentError(who + std::to_string(c.bindings.size()) + " bindings given, the pipeline has " +
                              std::to_string(c.pipeline->bindingCount()));
        for (size_t b = 0; b < c.bindings.size(); b++) {
          BufferRange& r = c.bindings[b];
          std::string wb = who + "binding " + std::to_string(b) + ": ";
          if (!r.buffer) throw ArgumentError(wb + "no buffer");
          sameDevice(r.buffer->device(), wb);
          if (r.range == 0) throw ArgumentError(wb + "range must be at least 1 byte");
          r.buffer->checkRange(r.offset, r.range, (wb + "range").c_str());
          if (r.offset % info.minStorageBufferOffsetAlignment != 0)
            throw ArgumentError(wb + "offset " + std::to_string(r.offset) + " is not a multiple of the device's " +
                                "minStorageBufferOffsetAlignment " + std::to_string(info.minStorageBufferOffsetAlignment));
          if (r.range > info.maxStorageBufferRange)
            throw ArgumentError(wb + "range " + std::to_string(r.range) + " exceeds maxStorageBufferRange " +
                                std::to_string(info.maxStorageBufferRange));
        }
        if (c.pushConstants.size() != c.pipeline->pushConstantSize())
          throw ArgumentError(who + std::to_string(c.pushConstants.size()) + " bytes of push constants given, the pipeline takes " +
                              std::to_string(c.pipeline->pushConstantSize()));
        for (int k = 0; k < 3; k++)
          if (c.groups[k] > info.maxComputeWorkGroupCount[k])
            throw ArgumentError(who + "group count " + std::to_string(c.groups[k]) + " in dimension " + "xyz"[k] +
                                " exceeds maxComputeWorkGroupCount " + std::to_string(info.maxComputeWorkGroupCount[k]));
        break;
      }
      case Command::Barrier:
        break;
      case Command::Timestamp:
        if (info.timestampValidBits == 0)
          throw ArgumentError(who + "the compute queue family of " + info.name + " cannot write timestamps");
        if (c.query >= 4096) throw ArgumentError(who + "timestamp index " + std::to_string(c.query) + " is over 4095");
        if (!queries.insert(c.query).second)
          throw ArgumentError(who + "timestamp index " + std::to_string(c.query) + " is written twice");
        queryCount_ = std::max(queryCount_, c.query + 1);
        break;
      case Command::Copy:
        if (!c.src.buffer || !c.dst.buffer) throw ArgumentError(who + "copy needs a source and a destination buffer");
        sameDevice(c.src.buffer->device(), who);
        sameDevice(c.dst.buffer->device(), who);
        if (c.size == 0) throw ArgumentError(who + "copy size must be at least 1 byte");
        c.src.buffer->checkRange(c.src.offset, c.size, (who + "copy source").c_str());
        c.dst.buffer->checkRange(c.dst.offset, c.size, (who + "copy destination").c_str());
        if (c.src.buffer == c.dst.buffer && c.src.offset < c.dst.offset + c.size && c.dst.offset < c.src.offset + c.size)
          throw ArgumentError(who + "copy source and destination overlap (Vulkan forbids it)");
        break;
      case Command::Fill:
        if (!c.dst.buffer) throw ArgumentError(who + "fill needs a buffer");
        sameDevice(c.dst.buffer->device(), who);
        if (c.size == 0 || c.size % 4 || c.dst.offset % 4)
          throw ArgumentError(who + "fill offset and size must be multiples of 4 and size at least 4");
        c.dst.buffer->checkRange(c.dst.offset, c.size, (who + "fill").c_str());
        break;
    }
  }
  if (queries.size() != queryCount_)
    throw ArgumentError("timestamp indices must be 0..N-1 without gaps (every query is read back)");
}

void Program::record() {
  VkDevice dev = device_->handle();
  VkCommandPoolCreateInfo cpci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  cpci.queueFamilyIndex = device_->family();
  VK_CALL(vkCreateCommandPool, dev, &cpci, nullptr, &pool_);
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VK_CALL(vkAllocateCommandBuffers, dev, &ai, &cmd_);
  VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VK_CALL(vkCreateFence, dev, &fci, nullptr, &fence_);

  // Descriptors: one set per dispatch, allocated here once from a pool sized exactly for them.
  uint32_t sets = 0, descriptors = 0;
  for (auto& c : commands_)
    if (c.kind == Command::Dispatch) {
      sets++;
      descriptors += static_cast<uint32_t>(c.bindings.size());
    }
  if (sets) {
    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, std::max(descriptors, 1u)};
    VkDescriptorPoolCreateInfo dpci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    dpci.maxSets = sets;
    dpci.poolSizeCount = 1;
    dpci.pPoolSizes = &size;
    VK_CALL(vkCreateDescriptorPool, dev, &dpci, nullptr, &descriptorPool_);
  }
  if (queryCount_) {
    VkQueryPoolCreateInfo qpci{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    qpci.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qpci.queryCount = queryCount_;
    VK_CALL(vkCreateQueryPool, dev, &qpci, nullptr, &queryPool_);
  }

  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  VK_CALL(vkBeginCommandBuffer, cmd_, &bi);
  if (queryCount_) vkCmdResetQueryPool(cmd_, queryPool_, 0, queryCount_);
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  const VkPipelineStageFlags work = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  for (auto& c : commands_) {
    switch (c.kind) {
      case Command::Dispatch: {
        VkDescriptorSetLayout layout = c.pipeline->setLayout();
        VkDescriptorSetAllocateInfo dsai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
        dsai.descriptorPool = descriptorPool_;
        dsai.descriptorSetCount = 1;
        dsai.pSetLayouts = &layout;
        VkDescriptorSet set;
        VK_CALL(vkAllocateDescriptorSets, dev, &dsai, &set);
        std::vector<VkDescriptorBufferInfo> infos;
        std::vector<VkWriteDescriptorSet> writes;
        infos.reserve(c.bindings.size());
        for (uint32_t b = 0; b < c.bindings.size(); b++) {
          infos.push_back({c.bindings[b].buffer->handle(), c.bindings[b].offset, c.bindings[b].range});
          VkWriteDescriptorSet w{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
          w.dstSet = set;
          w.dstBinding = b;
          w.descriptorCount = 1;
          w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
          w.pBufferInfo = &infos.back();
          writes.push_back(w);
        }
        if (!writes.empty()) vkUpdateDescriptorSets(dev, static_cast<uint32_t>(writes.size()), writes.data(), 0, nullptr);
        vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, c.pipeline->handle());
        vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, c.pipeline->layout(), 0, 1, &set, 0, nullptr);
        if (!c.pushConstants.empty())
          vkCmdPushConstants(cmd_, c.pipeline->layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0,
                             static_cast<uint32_t>(c.pushConstants.size()), c.pushConstants.data());
        vkCmdDispatch(cmd_, c.groups[0], c.groups[1], c.groups[2]);
        break;
      }
      case Command::Barrier:  // everything written before is visible to everything after
        mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                           VK_ACCESS_TRANSFER_WRITE_BIT;
        vkCmdPipelineBarrier(cmd_, work, work, 0, 1, &mb, 0, nullptr, 0, nullptr);
        break;
      case Command::Timestamp:  // bottom of pipe: written once all earlier commands have finished
        vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queryPool_, c.query);
        break;
      case Command::Copy: {
        VkBufferCopy region{c.src.offset, c.dst.offset, c.size};
        vkCmdCopyBuffer(cmd_, c.src.buffer->handle(), c.dst.buffer->handle(), 1, &region);
        break;
      }
      case Command::Fill:
        vkCmdFillBuffer(cmd_, c.dst.buffer->handle(), c.dst.offset, c.size, c.value);
        break;
    }
  }
  // Make every device write visible to host reads after the fence (Vulkan synchronization
  // examples, "compute write, host read"); vkQueueSubmit covers the host-write -> device direction.
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd_, work, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  VK_CALL(vkEndCommandBuffer, cmd_);
}

void Program::begin(uint32_t queue) {
  device_->checkQueue(queue);
  device_->checkUsable("submitting a program");
  bool expected = false;
  if (!busy_.compare_exchange_strong(expected, true))
    throw StateError("program is already in flight; await the previous submit() before submitting it again");
}

void Program::submit(uint32_t queue) {
  VkDevice dev = device_->handle();
  device_->checkUsable("running a program");
  device_->checkResult(vkResetFences(dev, 1, &fence_), "vkResetFences");
  device_->submit(queue, cmd_, fence_);
}

void Program::wait(uint32_t queue) {
  VkDevice dev = device_->handle();
  // Behind a job that hung the device: refused without waiting another GPU timeout.
  device_->checkUsable("waiting for a program");
  device_->waitFence(fence_, "a program of " + std::to_string(commands_.size()) + " command(s) on queue " +
                                 std::to_string(queue));
  if (queryCount_) {
    std::vector<uint64_t> ticks(queryCount_);
    // The fence has signalled, so every query is available: WAIT_BIT cannot block here.
    device_->checkResult(vkGetQueryPoolResults(dev, queryPool_, 0, queryCount_, ticks.size() * 8, ticks.data(), 8,
                                               VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
                         "vkGetQueryPoolResults");
    ticks_.swap(ticks);
  }
}

}  // namespace vkrt
