#include "provenance/policy.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace wwp::provenance {

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::Off:
      return "off";
    case Mode::Warn:
      return "warn";
    case Mode::Require:
      return "require";
  }
  return "off";
}

namespace {

Result<Rule> parse_rule(std::string_view prefix, std::string_view mode, const std::string& where) {
  Rule rule;
  rule.prefix = to_lower(trim(prefix));
  while (rule.prefix.size() > 1 && rule.prefix.back() == '/') rule.prefix.pop_back();
  if (rule.prefix.empty()) return invalid(where + ": the prefix is empty");
  const std::string name = to_lower(trim(mode));
  if (name == "off") {
    rule.mode = Mode::Off;
  } else if (name == "warn") {
    rule.mode = Mode::Warn;
  } else if (name == "require") {
    rule.mode = Mode::Require;
  } else {
    return invalid(where + ": mode \"" + name + "\" is not one of require, warn, off");
  }
  return rule;
}

// Registry host names are case-insensitive; repository paths are lowercase by the OCI spec.
bool covers(std::string_view prefix, std::string_view name) {
  if (prefix == "*") return true;
  if (!name.starts_with(prefix)) return false;
  return name.size() == prefix.size() || name[prefix.size()] == '/';
}

}  // namespace

Result<Policy> Policy::parse(const std::vector<std::string>& entries) {
  Policy policy;
  for (const std::string& entry : entries) {
    const auto equals = entry.rfind('=');
    if (equals == std::string::npos) {
      return invalid("signature policy \"" + entry + "\": expected PREFIX=MODE");
    }
    WWP_TRY_ASSIGN(Rule rule, parse_rule(std::string_view(entry).substr(0, equals),
                                         std::string_view(entry).substr(equals + 1),
                                         "signature policy \"" + entry + "\""));
    policy.rules_.push_back(std::move(rule));
  }
  return policy;
}

Result<Policy> Policy::parse_file_text(std::string_view text, std::string_view file_name) {
  Policy policy;
  int number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    ++number;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = std::string(file_name) + " line " + std::to_string(number);
    const auto separator = line.find_first_of(" \t=");
    if (separator == std::string_view::npos) return invalid(where + ": expected PREFIX MODE");
    WWP_TRY_ASSIGN(Rule rule,
                   parse_rule(line.substr(0, separator), line.substr(separator + 1), where));
    policy.rules_.push_back(std::move(rule));
  }
  return policy;
}

Policy::Decision Policy::decide(std::string_view name) const {
  const std::string lowered = to_lower(name);
  Decision decision;
  std::size_t best = 0;
  bool found = false;
  for (const Rule& rule : rules_) {
    if (!covers(rule.prefix, lowered)) continue;
    // "*" is the weakest match; among others the longest prefix wins, the later rule on a tie.
    const std::size_t strength = rule.prefix == "*" ? 0 : rule.prefix.size();
    if (!found || strength >= best) {
      found = true;
      best = strength;
      decision = Decision{rule.mode, rule.prefix};
    }
  }
  return decision;
}

}  // namespace wwp::provenance
