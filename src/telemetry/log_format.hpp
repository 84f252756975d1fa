// The one logging setup (spdlog on stderr), as text or as one JSON object per line, and the
// step's fields (workflow, namespace, node, template, module) added to every line a thread logs
// while it works on a step.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace wwp::telemetry {

enum class LogFormat { Text, Json };

Result<LogFormat> parse_log_format(std::string_view text);  // "text" or "json"

// Installs the default logger ("wwp", stderr) with `format` at `level` (trace..error).
Result<Ok> configure_logging(LogFormat format, std::string_view level);

// Fields added to every log line of the current thread while this object lives (scopes nest:
// inner fields follow outer ones). Text lines end with ` key=value`, JSON lines carry them as
// members.
class LogFields {
 public:
  LogFields();
  ~LogFields();
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

  LogFields& add(std::string key, std::string value);

  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  const LogFields* outer() const { return outer_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
  LogFields* outer_;
};

// Renders one line as the formatter does (for tests): JSON members or ` key=value` pairs.
std::string render_json_line(std::string_view time, std::string_view level,
                             std::string_view message);

}  // namespace wwp::telemetry
