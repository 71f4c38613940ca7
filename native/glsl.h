// Runtime GLSL -> SPIR-V through libshaderc, for kernels that TypeScript generates.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "common.h"

namespace vkrt {

struct GlslOptions {
  std::string name = "kernel.comp";  // used in messages and to resolve "relative" includes
  std::vector<std::pair<std::string, std::string>> defines;
  std::vector<std::string> includeDirs;
  // Headers held in memory (name -> source), searched after includeDirs: vkrt's own
  // shaders/common headers travel inside the package this way, so no file beside it is read.
  std::vector<std::pair<std::string, std::string>> includeSources;
  std::string targetEnv = "vulkan1.1";  // vulkan1.1 | vulkan1.2 | vulkan1.3
  bool optimize = true;
};

// The source did not compile; what() is a one-line summary, log the full compiler output.
class CompileError : public ArgumentError {
 public:
  CompileError(const std::string& what, std::string log) : ArgumentError(what), log(std::move(log)) {}
  std::string log;
};

std::vector<uint32_t> compileGlsl(const std::string& source, const GlslOptions& options);

}  // namespace vkrt
