// What every fuzz target shares: an invariant check that stops the run with a message (libFuzzer
// then saves the input as crash-<sha1>), and the input as a string_view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define WWP_FUZZ_CHECK(condition, what)                                                \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", __FILE__, __LINE__, \
                   std::string_view(what).data());                                     \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)

namespace wwp::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace wwp::fuzz
