// JSON log lines and the step fields a thread adds to every line it logs.
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "telemetry/log_format.hpp"

using namespace wwp::telemetry;
using Json = nlohmann::json;

TEST(LogFormat, ParsesTextAndJsonOnly) {
  EXPECT_EQ(*parse_log_format("json"), LogFormat::Json);
  EXPECT_EQ(*parse_log_format("text"), LogFormat::Text);
  auto bad = parse_log_format("xml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--log-format"), std::string::npos);
  EXPECT_FALSE(configure_logging(LogFormat::Text, "loud"));
  EXPECT_TRUE(configure_logging(LogFormat::Json, "info"));
}

TEST(LogFormat, JsonLinesCarryTheFieldsOfEveryOpenScope) {
  Json plain = Json::parse(render_json_line("2026-01-01T00:00:00.000000Z", "info", "hello \"x\""));
  EXPECT_EQ(
      plain,
      Json({{"time", "2026-01-01T00:00:00.000000Z"}, {"level", "info"}, {"msg", "hello \"x\""}}));
  {
    LogFields step;
    step.add("workflow", "wf").add("namespace", "argo").add("msg", "not the message");
    {
      LogFields end;
      end.add("phase", "Failed").add("workflow", "wf");
      Json line = Json::parse(render_json_line("t", "info", "step Failed"));
      EXPECT_EQ(line["workflow"], "wf");
      EXPECT_EQ(line["namespace"], "argo");
      EXPECT_EQ(line["phase"], "Failed");
      EXPECT_EQ(line["msg"], "step Failed");  // a field never replaces the envelope
    }
    Json after = Json::parse(render_json_line("t", "info", "m"));
    EXPECT_FALSE(after.contains("phase"));
    EXPECT_EQ(after["workflow"], "wf");
    // Another thread has fields of its own (none here).
    std::thread([] {
      EXPECT_FALSE(Json::parse(render_json_line("t", "info", "m")).contains("workflow"));
    }).join();
  }
  EXPECT_FALSE(Json::parse(render_json_line("t", "info", "m")).contains("workflow"));
}

TEST(LogFormat, InvalidUtf8FromAModuleDoesNotBreakTheLine) {
  LogFields fields;
  fields.add("stderr", std::string("bad \xff\xfe bytes\nsecond line"));
  const std::string line = render_json_line("t", "warn", "m");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  Json parsed = Json::parse(line);
  EXPECT_NE(parsed["stderr"].get<std::string>().find("second line"), std::string::npos);
}

TEST(LogFormat, TextLinesEndWithTheFieldsAndStayOneLine) {
  ASSERT_TRUE(configure_logging(LogFormat::Text, "info"));
  testing::internal::CaptureStderr();
  {
    LogFields fields;
    fields.add("workflow", "wf").add("stderr", "a b\nc");
    spdlog::info("first\nsecond");
  }
  spdlog::info("plain");
  spdlog::default_logger()->flush();
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_NE(out.find("[info] first\\nsecond workflow=wf stderr=\"a b\\nc\"\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("[info] plain\n"), std::string::npos) << out;

  ASSERT_TRUE(configure_logging(LogFormat::Json, "info"));
  testing::internal::CaptureStderr();
  {
    LogFields fields;
    fields.add("module", "m.wasm");
    spdlog::info("step {}", "Failed");
  }
  spdlog::default_logger()->flush();
  const Json line = Json::parse(testing::internal::GetCapturedStderr());
  EXPECT_EQ(line["msg"], "step Failed");
  EXPECT_EQ(line["module"], "m.wasm");
  EXPECT_EQ(line["level"], "info");
}
