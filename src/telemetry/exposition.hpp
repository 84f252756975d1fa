// Prometheus text exposition format (version 0.0.4), written by hand: Debian has no
// prometheus-cpp (docs/dependencies.md). The writer only formats; metrics.hpp holds the values.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wwp::telemetry {

using Labels = std::vector<std::pair<std::string, std::string>>;

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved by Prometheus).
bool valid_label_name(std::string_view name);

// Label values escape backslash, double quote and newline; HELP text backslash and newline.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
// Shortest text that reads back as the same double; +Inf, -Inf, NaN as Prometheus spells them.
std::string format_value(double value);

class ExpositionWriter {
 public:
  // Starts a metric family: "# HELP" and "# TYPE" lines. `type`: counter, gauge, histogram.
  void family(std::string_view name, std::string_view help, std::string_view type);
  // One sample line: name{labels} value. `extra` is appended to the labels (a histogram's "le").
  void sample(std::string_view name, const Labels& labels, double value,
              const std::pair<std::string_view, std::string_view>* extra = nullptr);
  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace wwp::telemetry
