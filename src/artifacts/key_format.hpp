// Object keys for output artifacts, as the Argo controller builds them for pods: the repository's
// keyFormat (default "{{workflow.name}}/{{pod.name}}") names a directory, and the artifact's file
// name (<name>.tgz, <name>.zip, or the basename of its path when not archived) is joined to it.
#pragma once

#include <string>
#include <string_view>

#include "artifacts/artifact_service.hpp"
#include "common/result.hpp"

namespace wwp::artifacts {

inline constexpr std::string_view kDefaultKeyFormat = "{{workflow.name}}/{{pod.name}}";

struct KeyVariables {
  std::string workflow_name;
  std::string workflow_namespace;
  std::string workflow_uid;
  std::string pod_name;
};

// Plugin steps run in the agent pod, not in a pod of their own; this stands in for {{pod.name}}:
// "<workflow.name>-<template.name>-<first 8 hex digits of SHA-256(step_key)>". Stable across the
// agent's repeated calls for one step, distinct between steps.
std::string step_pod_name(const StepContext& step);

KeyVariables key_variables(const StepContext& step);

// Substitutes {{workflow.name}}, {{workflow.namespace}}, {{workflow.uid}} and {{pod.name}}
// (spaces inside the braces are allowed). Any other {{...}} is an error naming it, since a key
// with a literal "{{" in it is never what the author meant.
Result<std::string> format_key(std::string_view key_format, const KeyVariables& variables);

// key_format (or the default) joined with file_name, without empty segments or a leading '/'.
// The deprecated `keyPrefix` of Argo's S3 repository is honoured when keyFormat is empty.
Result<std::string> output_key(std::string_view key_format, std::string_view key_prefix,
                               const KeyVariables& variables, std::string_view file_name);

}  // namespace wwp::artifacts
