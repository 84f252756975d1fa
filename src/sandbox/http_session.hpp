// Private to sandbox/: one step's outbound-HTTP state: its policy (none: deny all), the responses
// it holds open, how many requests it made, and what was refused (for the step's message).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sandbox/http_capability.hpp"

namespace wwp::sandbox {

struct HttpSession {
  struct OpenResponse {
    HttpResponse response;
    std::size_t body_read = 0;
  };

  const HttpPolicy* policy = nullptr;
  std::map<std::int32_t, OpenResponse> open;
  std::int32_t next_handle = 1;
  std::uint32_t requests = 0;
  // Sentences for the step's message: refused destinations, failed requests (bounded).
  std::vector<std::string> notes;

  void note(std::string sentence) {
    constexpr std::size_t kMaxNotes = 8;
    if (notes.size() < kMaxNotes) notes.push_back(std::move(sentence));
  }
};

}  // namespace wwp::sandbox
