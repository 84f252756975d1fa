#include "telemetry/exposition.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace wwp::telemetry {

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_alpha(name[0]) || name[0] == ':')) return false;
  for (char c : name) {
    if (!(is_alpha(c) || is_digit(c) || c == ':')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_alpha(name[0]) || name.starts_with("__")) return false;
  for (char c : name) {
    if (!(is_alpha(c) || is_digit(c))) return false;
  }
  return true;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  append_escaped(out, value, true);
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  append_escaped(out, help, false);
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buffer.data(), end);
}

void ExpositionWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void ExpositionWriter::sample(std::string_view name, const Labels& labels, double value,
                              const std::pair<std::string_view, std::string_view>* extra) {
  out_ += name;
  if (!labels.empty() || extra != nullptr) {
    out_ += '{';
    bool first = true;
    auto add = [&](std::string_view key, std::string_view val) {
      if (!first) out_ += ',';
      first = false;
      out_ += key;
      out_ += "=\"";
      append_escaped(out_, val, true);
      out_ += '"';
    };
    for (const auto& [key, val] : labels) add(key, val);
    if (extra != nullptr) add(extra->first, extra->second);
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

}  // namespace wwp::telemetry
