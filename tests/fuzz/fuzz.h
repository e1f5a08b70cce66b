// Shared by the libFuzzer targets (docs/security.md, "Fuzzing and sanitizers"). Each target feeds
// its input to the function production uses on untrusted bytes. arca::Error is how a parser
// refuses an input; anything else escaping (another exception: std::terminate), a crash, a
// sanitizer report, a leak, an allocation past libFuzzer's limit or a timeout is a finding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "util/bytes.h"
#include "util/error.h"

#define ARCA_FUZZ_TARGET(data, size)                                        \
  static void arca_fuzz_one(const uint8_t* data, size_t size);              \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    try {                                                                   \
      arca_fuzz_one(data, size);                                            \
    } catch (const arca::Error&) {}                                         \
    return 0;                                                               \
  }                                                                         \
  static void arca_fuzz_one(const uint8_t* data, size_t size)

namespace arca_fuzz {

inline arca::ByteView view(const uint8_t* data, size_t size) { return arca::ByteView(data, size); }
inline std::string text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace arca_fuzz
