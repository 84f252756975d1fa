#include "telemetry/otlp_json.hpp"

#include <nlohmann/json.hpp>

namespace wwp::telemetry {

namespace {

using nlohmann::json;

json any_value(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return {{"stringValue", v}};
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return {{"intValue", std::to_string(v)}};
        } else if constexpr (std::is_same_v<T, double>) {
          return {{"doubleValue", v}};
        } else {
          return {{"boolValue", v}};
        }
      },
      value);
}

}  // namespace

std::string encode_otlp_json(const std::vector<std::pair<std::string, std::string>>& resource,
                             const std::vector<SpanData>& spans) {
  json resource_attributes = json::array();
  for (const auto& [key, value] : resource)
    resource_attributes.push_back({{"key", key}, {"value", {{"stringValue", value}}}});
  json out_spans = json::array();
  for (const auto& span : spans) {
    json attributes = json::array();
    for (const auto& [key, value] : span.attributes)
      attributes.push_back({{"key", key}, {"value", any_value(value)}});
    json item = {
        {"traceId", to_hex(span.trace_id.data(), span.trace_id.size())},
        {"spanId", to_hex(span.span_id.data(), span.span_id.size())},
        {"name", span.name},
        {"kind", static_cast<int>(span.kind)},
        {"startTimeUnixNano", std::to_string(span.start_unix_nanos)},
        {"endTimeUnixNano", std::to_string(span.end_unix_nanos)},
        {"attributes", std::move(attributes)},
    };
    bool has_parent = false;
    for (auto b : span.parent_span_id) has_parent = has_parent || b != 0;
    if (has_parent)
      item["parentSpanId"] = to_hex(span.parent_span_id.data(), span.parent_span_id.size());
    // Status codes: 0 unset, 2 error (1 "ok" is for operators overriding, not for libraries).
    if (span.error) item["status"] = {{"code", 2}, {"message", span.status_message}};
    out_spans.push_back(std::move(item));
  }
  json body = {
      {"resourceSpans",
       json::array({{{"resource", {{"attributes", std::move(resource_attributes)}}},
                     {"scopeSpans", json::array({{{"scope", {{"name", "wasm-workflows-plugin"}}},
                                                  {"spans", std::move(out_spans)}}})}}})}};
  // Module output or names may hold invalid UTF-8; replace rather than fail the export.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace wwp::telemetry
