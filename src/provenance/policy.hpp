// Which modules must be signed: a mode per registry/repository prefix, the longest matching
// prefix deciding ("ghcr.io/acme" covers ghcr.io/acme and ghcr.io/acme/tools, not ghcr.io/acme-x).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace wwp::provenance {

enum class Mode {
  Off,      // not checked
  Warn,     // checked; a failure is logged and the module runs
  Require,  // checked; a failure fails the step
};

std::string_view mode_name(Mode mode);

struct Rule {
  std::string prefix;  // registry[/repository path]; "*" matches everything
  Mode mode = Mode::Off;
};

class Policy {
 public:
  Policy() = default;
  explicit Policy(std::vector<Rule> rules) : rules_(std::move(rules)) {}

  // "PREFIX=MODE" entries (the flag's form), each naming the entry at fault when malformed.
  static Result<Policy> parse(const std::vector<std::string>& entries);
  // A policy file: one "PREFIX MODE" (or "PREFIX=MODE") per line; blank lines and lines
  // starting with '#' are skipped. Errors name the file and line.
  static Result<Policy> parse_file_text(std::string_view text, std::string_view file_name);

  // The mode for `name` (registry/repository, as oci::Reference::name() spells it), and the rule
  // that chose it ("" when none did: Off).
  struct Decision {
    Mode mode = Mode::Off;
    std::string rule;
  };
  Decision decide(std::string_view name) const;

  bool empty() const { return rules_.empty(); }
  const std::vector<Rule>& rules() const { return rules_; }
  void add(Rule rule) { rules_.push_back(std::move(rule)); }

 private:
  std::vector<Rule> rules_;
};

}  // namespace wwp::provenance
