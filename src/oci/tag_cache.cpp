#include "oci/tag_cache.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/atomic_file.hpp"

namespace wwp::oci {

namespace fs = std::filesystem;
using Json = nlohmann::json;

TagCache::TagCache(fs::path dir) : dir_(std::move(dir)) {}

fs::path TagCache::file_of(const std::string& reference) const {
  // Hashed names: references contain '/' and ':' and may be longer than a file name may be.
  return dir_ / (sha256_of(reference).hex + ".json");
}

std::optional<TagEntry> TagCache::get(const std::string& reference) const {
  std::ifstream in(file_of(reference), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  Json json = Json::parse(text.str(), nullptr, false);
  if (!json.is_object()) return std::nullopt;
  auto ref = json.find("reference");
  auto digest = json.find("digest");
  auto resolved = json.find("resolvedAtMs");
  if (ref == json.end() || !ref->is_string() || ref->get<std::string>() != reference)
    return std::nullopt;
  if (digest == json.end() || !digest->is_string()) return std::nullopt;
  if (resolved == json.end() || !resolved->is_number_integer()) return std::nullopt;
  auto parsed = parse_digest(digest->get<std::string>());
  if (!parsed) return std::nullopt;
  return TagEntry{reference, *parsed,
                  std::chrono::system_clock::time_point(
                      std::chrono::milliseconds(resolved->get<std::int64_t>()))};
}

Result<Ok> TagCache::put(const std::string& reference, const Digest& digest,
                         std::chrono::system_clock::time_point resolved_at) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return failed("cannot create tag cache " + dir_.string() + ": " + ec.message());
  const Json json = {{"reference", reference},
                     {"digest", digest.str()},
                     {"resolvedAtMs", std::chrono::duration_cast<std::chrono::milliseconds>(
                                          resolved_at.time_since_epoch())
                                          .count()}};
  auto written = write_file_atomically(file_of(reference), json.dump());
  if (!written) return failed("cannot write tag cache entry in " + dir_.string());
  return Ok{};
}

}  // namespace wwp::oci
