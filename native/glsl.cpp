#include "glsl.h"

#include <shaderc/shaderc.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace vkrt {

namespace {

struct Included {
  shaderc_include_result result{};
  std::string name, content;
};

struct IncludeContext {
  std::vector<std::string> dirs;
  const std::vector<std::pair<std::string, std::string>>* sources;
};

// Names of in-memory headers carry this prefix, so a relative include from one of them is looked
// up in memory too, never on disk beside the process.
const std::string kMemoryPrefix = "vkrt-embedded:";

bool readFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

shaderc_include_result* resolveInclude(void* user, const char* requested, int type, const char* requester, size_t) {
  auto* ctx = static_cast<IncludeContext*>(user);
  auto* inc = new Included();
  std::vector<std::string> candidates;
  bool fromMemory = std::string(requester).rfind(kMemoryPrefix, 0) == 0;
  if (type == shaderc_include_type_relative && !fromMemory) {
    std::string from = requester;
    size_t slash = from.rfind('/');
    candidates.push_back((slash == std::string::npos ? "" : from.substr(0, slash + 1)) + requested);
  }
  for (auto& d : ctx->dirs) candidates.push_back(d + "/" + requested);
  for (auto& c : candidates)
    if (readFile(c, &inc->content)) {
      inc->name = c;
      break;
    }
  if (inc->name.empty()) {
    // in memory: beside the including header first (params/a.glsl including "b.glsl" finds
    // params/b.glsl), then by the name as written
    std::vector<std::string> names;
    if (fromMemory && type == shaderc_include_type_relative) {
      std::string from = std::string(requester).substr(kMemoryPrefix.size());
      size_t slash = from.rfind('/');
      if (slash != std::string::npos) names.push_back(from.substr(0, slash + 1) + requested);
    }
    names.push_back(requested);
    for (auto& want : names) {
      for (auto& [name, text] : *ctx->sources)
        if (name == want) {
          inc->name = kMemoryPrefix + name;
          inc->content = text;
          break;
        }
      if (!inc->name.empty()) break;
    }
  }
  if (inc->name.empty()) inc->content = std::string("cannot find include '") + requested + "' in the include directories";
  // An empty source_name tells shaderc the include failed; content then holds the message.
  inc->result = {inc->name.c_str(), inc->name.size(), inc->content.c_str(), inc->content.size(), inc};
  return &inc->result;
}

void releaseInclude(void*, shaderc_include_result* r) {
  if (r) delete static_cast<Included*>(r->user_data);
}

}  // namespace

std::vector<uint32_t> compileGlsl(const std::string& source, const GlslOptions& o) {
  shaderc_env_version env;
  if (o.targetEnv == "vulkan1.1") env = shaderc_env_version_vulkan_1_1;
  else if (o.targetEnv == "vulkan1.2") env = shaderc_env_version_vulkan_1_2;
  else if (o.targetEnv == "vulkan1.3") env = shaderc_env_version_vulkan_1_3;
  else throw ArgumentError("targetEnv must be vulkan1.1, vulkan1.2 or vulkan1.3, not '" + o.targetEnv + "'");
  for (auto& [k, v] : o.defines)
    if (k.empty() || k.find_first_of(" \t\r\n=()") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
      throw ArgumentError("invalid define '" + k + "': names are identifiers, values one line");

  std::unique_ptr<shaderc_compiler, void (*)(shaderc_compiler_t)> compiler(shaderc_compiler_initialize(),
                                                                         shaderc_compiler_release);
  std::unique_ptr<shaderc_compile_options, void (*)(shaderc_compile_options_t)> opts(
      shaderc_compile_options_initialize(), shaderc_compile_options_release);
  if (!compiler || !opts) throw std::runtime_error("shaderc could not be initialised");
  shaderc_compile_options_set_target_env(opts.get(), shaderc_target_env_vulkan, env);
  shaderc_compile_options_set_optimization_level(
      opts.get(), o.optimize ? shaderc_optimization_level_performance : shaderc_optimization_level_zero);
  for (auto& [k, v] : o.defines)
    shaderc_compile_options_add_macro_definition(opts.get(), k.data(), k.size(), v.data(), v.size());
  IncludeContext ctx{o.includeDirs, &o.includeSources};
  shaderc_compile_options_set_include_callbacks(opts.get(), resolveInclude, releaseInclude, &ctx);

  std::unique_ptr<shaderc_compilation_result, void (*)(shaderc_compilation_result_t)> result(
      shaderc_compile_into_spv(compiler.get(), source.data(), source.size(), shaderc_compute_shader, o.name.c_str(),
                               "main", opts.get()),
      shaderc_result_release);
  if (!result) throw std::runtime_error("shaderc returned no result");
  if (shaderc_result_get_compilation_status(result.get()) != shaderc_compilation_status_success) {
    std::string log = shaderc_result_get_error_message(result.get());
    std::string first = log.substr(0, log.find('\n'));
    throw CompileError("GLSL compile of '" + o.name + "' failed: " + first, log);
  }
  size_t bytes = shaderc_result_get_length(result.get());
  std::vector<uint32_t> words(bytes / 4);
  std::memcpy(words.data(), shaderc_result_get_bytes(result.get()), words.size() * 4);
  return words;
}

}  // namespace vkrt
