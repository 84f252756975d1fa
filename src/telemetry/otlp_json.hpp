// Spans in the OTLP/HTTP JSON encoding (ExportTraceServiceRequest): ids in hex, 64-bit integers
// as strings, as the OTLP specification's JSON mapping says.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "telemetry/span.hpp"

namespace wwp::telemetry {

std::string encode_otlp_json(const std::vector<std::pair<std::string, std::string>>& resource,
                             const std::vector<SpanData>& spans);

}  // namespace wwp::telemetry
