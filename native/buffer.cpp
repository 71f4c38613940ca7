#include "buffer.h"

#include <algorithm>
#include <cstring>

namespace vkrt {

std::string kindName(MemoryKind k) {
  return k == MemoryKind::Device ? "device" : k == MemoryKind::Upload ? "upload" : "readback";
}

static std::string bytes(uint64_t n) { return std::to_string(n) + " bytes"; }

Buffer::Buffer(std::shared_ptr<Device> device, uint64_t size, MemoryKind kind)
    : device_(device.get()), keepAlive_(std::move(device)), kind_(kind) {
  init(size, kind);
}

Buffer::Buffer(Device& device, uint64_t size, MemoryKind kind) : device_(&device), kind_(kind) { init(size, kind); }

void Buffer::init(uint64_t size, MemoryKind kind) {
  const DeviceInfo& info = device_->info();
  if (size == 0) throw ArgumentError("buffer size must be at least 1 byte");
  device_->checkUsable("creating a buffer");
  if (info.maxMemoryAllocationSize && size > info.maxMemoryAllocationSize)
    throw ArgumentError("buffer size " + bytes(size) + " exceeds maxMemoryAllocationSize (" +
                        bytes(info.maxMemoryAllocationSize) + ") of " + info.name);
  if (info.maxBufferSize && size > info.maxBufferSize)
    throw ArgumentError("buffer size " + bytes(size) + " exceeds maxBufferSize (" + bytes(info.maxBufferSize) + ") of " +
                        info.name);
  size_ = size;
  VkDevice dev = device_->handle();
  VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bci.size = size;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;  // one queue family: all our queues share it
  VK_CALL(vkCreateBuffer, dev, &bci, nullptr, &buffer_);
  try {
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev, buffer_, &req);
    bool hostVisible = false;
    uint32_t type = device_->memoryType(req.memoryTypeBits, kind, &hostVisible, &coherent_);
    uint32_t heap = device_->memoryProperties().memoryTypes[type].heapIndex;
    if (req.size > device_->memoryProperties().memoryHeaps[heap].size)
      throw ArgumentError("buffer size " + bytes(size) + " exceeds the memory heap (" +
                          bytes(device_->memoryProperties().memoryHeaps[heap].size) + ")");
    VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    mai.allocationSize = req.size;
    mai.memoryTypeIndex = type;
    check(vkAllocateMemory(dev, &mai, nullptr, &memory_), "vkAllocateMemory",
          "allocating a " + kindName(kind) + " buffer of " + bytes(size));
    VK_CALL(vkBindBufferMemory, dev, buffer_, memory_, 0);
    if (hostVisible && !(kind == MemoryKind::Device && device_->forceStaging()))
      VK_CALL(vkMapMemory, dev, memory_, 0, VK_WHOLE_SIZE, 0, &mapped_);
  } catch (...) {
    if (memory_) vkFreeMemory(dev, memory_, nullptr);
    vkDestroyBuffer(dev, buffer_, nullptr);
    throw;
  }
}

Buffer::~Buffer() {
  if (device_->hung()) return;  // abandoned with its device: a hung job may still use this memory
  VkDevice dev = device_->handle();
  if (mapped_) vkUnmapMemory(dev, memory_);
  vkDestroyBuffer(dev, buffer_, nullptr);
  vkFreeMemory(dev, memory_, nullptr);
}

void Buffer::checkRange(uint64_t offset, uint64_t n, const char* what) const {
  if (offset > size_ || n > size_ - offset)
    throw ArgumentError(std::string(what) + " [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                        std::to_string(n) + ") is outside the buffer of " + bytes(size_));
}

void Buffer::write(uint64_t offset, const void* data, uint64_t n) {
  checkRange(offset, n, "write");
  if (n == 0) return;
  VkDevice dev = device_->handle();
  if (mapped_) {
    std::memcpy(static_cast<uint8_t*>(mapped_) + offset, data, n);
    if (!coherent_) {
      VkMappedMemoryRange r{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, nullptr, memory_, 0, VK_WHOLE_SIZE};
      VK_CALL(vkFlushMappedMemoryRanges, dev, 1, &r);
    }
    return;
  }
  const uint64_t chunk = std::min<uint64_t>(n, 64ull << 20);
  auto stage = device_->staging(chunk);
  for (uint64_t done = 0; done < n;) {
    uint64_t m = std::min(chunk, n - done);
    stage->write(0, static_cast<const uint8_t*>(data) + done, m);
    device_->copyNow(stage->handle(), 0, buffer_, offset + done, m);
    done += m;
  }
}

void Buffer::read(uint64_t offset, void* out, uint64_t n) {
  checkRange(offset, n, "read");
  if (n == 0) return;
  VkDevice dev = device_->handle();
  if (mapped_) {
    if (!coherent_) {
      VkMappedMemoryRange r{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, nullptr, memory_, 0, VK_WHOLE_SIZE};
      VK_CALL(vkInvalidateMappedMemoryRanges, dev, 1, &r);
    }
    std::memcpy(out, static_cast<const uint8_t*>(mapped_) + offset, n);
    return;
  }
  const uint64_t chunk = std::min<uint64_t>(n, 64ull << 20);
  auto stage = device_->staging(chunk);
  for (uint64_t done = 0; done < n;) {
    uint64_t m = std::min(chunk, n - done);
    device_->copyNow(buffer_, offset + done, stage->handle(), 0, m);
    stage->read(0, static_cast<uint8_t*>(out) + done, m);
    done += m;
  }
}

}  // namespace vkrt
