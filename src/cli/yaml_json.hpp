// Converts YAML documents (Workflow manifests) to JSON the model parsers read. Plain scalars
// become numbers, booleans or null where YAML 1.2's core schema says so; quoted ones stay strings.
#pragma once

#include <string>

#include "common/result.hpp"
#include "model/json_fields.hpp"

namespace wwp::cli {

Result<model::Json> yaml_to_json(const std::string& text);

}  // namespace wwp::cli
