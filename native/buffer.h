// A storage buffer with its own memory allocation. Host-visible memory stays mapped; otherwise
// write/read go through the device's staging buffer.
#pragma once
#include <memory>

#include "device.h"

namespace vkrt {

class Buffer {
 public:
  // Owning: the buffer keeps its device alive.
  Buffer(std::shared_ptr<Device> device, uint64_t size, MemoryKind kind);
  // Non-owning, for the device's own staging buffer.
  Buffer(Device& device, uint64_t size, MemoryKind kind);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  uint64_t size() const { return size_; }
  MemoryKind kind() const { return kind_; }
  bool mapped() const { return mapped_ != nullptr; }
  VkBuffer handle() const { return buffer_; }
  const Device& device() const { return *device_; }

  // Validated: offset + n <= size. Blocks until the bytes are in place (staged copies included).
  void write(uint64_t offset, const void* data, uint64_t n);
  void read(uint64_t offset, void* out, uint64_t n);
  void checkRange(uint64_t offset, uint64_t n, const char* what) const;

 private:
  void init(uint64_t size, MemoryKind kind);
  Device* device_;
  std::shared_ptr<Device> keepAlive_;
  uint64_t size_ = 0;
  MemoryKind kind_;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  void* mapped_ = nullptr;
  bool coherent_ = true;
};

std::string kindName(MemoryKind k);

}  // namespace vkrt
