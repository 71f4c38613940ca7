// A program: a list of commands recorded once into one command buffer and submitted many times.
// It keeps every buffer and pipeline it records alive (shared ownership), so disposing one of them
// never leaves the command buffer pointing at freed memory.
#pragma once
#include <atomic>
#include <memory>
#include <vector>

#include "buffer.h"
#include "pipeline.h"

namespace vkrt {

struct BufferRange {
  std::shared_ptr<Buffer> buffer;
  uint64_t offset = 0;
  uint64_t range = 0;
};

struct Command {
  enum Kind { Dispatch, Barrier, Timestamp, Copy, Fill } kind;
  // Dispatch
  std::shared_ptr<Pipeline> pipeline;
  std::vector<BufferRange> bindings;
  std::vector<uint8_t> pushConstants;
  uint32_t groups[3] = {1, 1, 1};
  // Timestamp
  uint32_t query = 0;
  // Copy (src -> dst, size) and Fill (dst, size, value)
  BufferRange src, dst;
  uint64_t size = 0;
  uint32_t value = 0;
};

class Program {
 public:
  // Validates every command, then records. Throws ArgumentError naming the command index.
  Program(std::shared_ptr<Device> device, std::vector<Command> commands);
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  const std::shared_ptr<Device>& device() const { return device_; }
  uint32_t timestampCount() const { return queryCount_; }
  uint32_t commandCount() const { return static_cast<uint32_t>(commands_.size()); }
  // Main thread: marks the program in flight (StateError if it already is), checks the queue and
  // the device's health (DeviceLostError).
  void begin(uint32_t queue);
  // Main thread, after begin(): hands the command buffer to the queue (vkQueueSubmit under the
  // queue's lock) and returns at once, so several programs can be in flight on one queue.
  // Throws VulkanError, DeviceLostError; the caller then calls end().
  void submit(uint32_t queue);
  // The queue's waiter thread (Device::enqueue), after submit(): waits for the fence for at most the
  // device's GPU timeout and reads the timestamps. Throws VulkanError, DeviceLostError.
  void wait(uint32_t queue);
  // Main thread, after run() returned or threw: the program may be submitted again.
  void end() { busy_ = false; }
  bool busy() const { return busy_; }
  // Ticks of the last completed run (empty before the first). StateError while in flight.
  std::vector<uint64_t> timestamps() const {
    if (busy_) throw StateError("timestamps are not readable while the program is in flight; await submit() first");
    return ticks_;
  }

 private:
  void validate();
  void record();
  void release();
  std::shared_ptr<Device> device_;
  std::vector<Command> commands_;
  uint32_t queryCount_ = 0;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkDescriptorPool descriptorPool_ = VK_NULL_HANDLE;
  VkQueryPool queryPool_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  std::atomic<bool> busy_{false};
  std::vector<uint64_t> ticks_;
};

}  // namespace vkrt
