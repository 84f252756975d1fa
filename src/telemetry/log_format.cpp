#include "telemetry/log_format.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace wwp::telemetry {

namespace {

thread_local LogFields* current_fields = nullptr;

void collect_fields(const LogFields* fields,
                    std::vector<const std::pair<std::string, std::string>*>& out) {
  if (fields == nullptr) return;
  for (const auto& field : fields->fields()) out.push_back(&field);
}

std::vector<const std::pair<std::string, std::string>*> active_fields();

// A value is quoted when it would not read back as one token.
std::string text_value(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \t\n\"=") == std::string::npos) return value;
  return nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class TextFormatter : public spdlog::formatter {
 public:
  TextFormatter() : pattern_(std::make_unique<spdlog::pattern_formatter>()) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    // One event, one line: line breaks in a message (a module's stderr) are written as \n.
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string escaped;
    spdlog::details::log_msg one_line = msg;
    if (payload.find_first_of("\r\n") != std::string_view::npos) {
      for (char c : payload) {
        if (c == '\n') {
          escaped += "\\n";
        } else if (c != '\r') {
          escaped += c;
        }
      }
      one_line.payload = spdlog::string_view_t(escaped.data(), escaped.size());
    }
    spdlog::memory_buf_t line;
    pattern_->format(one_line, line);
    std::string text(line.data(), line.size());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    for (const auto* field : active_fields()) {
      text += ' ';
      text += field->first;
      text += '=';
      text += text_value(field->second);
    }
    text += '\n';
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }

 private:
  std::unique_ptr<spdlog::pattern_formatter> pattern_;
};

std::string iso_time(spdlog::log_clock::time_point when) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lldZ", static_cast<long long>(micros % 1000000));
  return std::string(buffer, n) + fraction;
}

class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line =
        render_json_line(iso_time(msg.time), std::string_view(level.data(), level.size()),
                         std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::vector<const std::pair<std::string, std::string>*> active_fields() {
  std::vector<const LogFields*> chain;
  for (const LogFields* f = current_fields; f != nullptr; f = f->outer()) chain.push_back(f);
  std::vector<const std::pair<std::string, std::string>*> out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) collect_fields(*it, out);
  return out;
}

}  // namespace

Result<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::Text;
  if (text == "json") return LogFormat::Json;
  return invalid("--log-format: expected text or json, got \"" + std::string(text) + "\"");
}

Result<Ok> configure_logging(LogFormat format, std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off")
    return invalid("--log-level: expected trace, debug, info, warn or error, got \"" +
                   std::string(level) + "\"");
  auto logger = spdlog::get("wwp");
  if (!logger)
    logger =
        std::make_shared<spdlog::logger>("wwp", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == LogFormat::Json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>());
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(parsed);
  return Ok{};
}

LogFields::LogFields() : outer_(current_fields) { current_fields = this; }
LogFields::~LogFields() { current_fields = outer_; }

LogFields& LogFields::add(std::string key, std::string value) {
  for (auto& [existing, old] : fields_) {
    if (existing == key) {
      old = std::move(value);
      return *this;
    }
  }
  fields_.emplace_back(std::move(key), std::move(value));
  return *this;
}

std::string render_json_line(std::string_view time, std::string_view level,
                             std::string_view message) {
  nlohmann::ordered_json line;
  line["time"] = time;
  line["level"] = level;
  line["msg"] = message;
  for (const auto* field : active_fields()) {
    // The envelope's own members are not overwritten by a field of the same name.
    if (!line.contains(field->first)) line[field->first] = field->second;
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace wwp::telemetry
