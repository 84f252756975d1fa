// The exposition writer and the metric types: escaping, number formats, histogram buckets,
// label limits, and that what they write is the text format Prometheus reads.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include <unistd.h>

#include "telemetry/exposition.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/plugin_metrics.hpp"

using namespace wwp::telemetry;

TEST(Exposition, NamesAreCheckedByThePrometheusGrammar) {
  EXPECT_TRUE(valid_metric_name("wwp_steps_total"));
  EXPECT_TRUE(valid_metric_name("ns:rule_name"));
  EXPECT_FALSE(valid_metric_name("1abc"));
  EXPECT_FALSE(valid_metric_name("wwp-steps"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("phase"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("9"));
}

TEST(Exposition, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(escape_label_value(R"(a"b\c)"
                               "\n"),
            R"(a\"b\\c\n)");
  EXPECT_EQ(escape_help("back\\slash \"quoted\"\nline"), "back\\\\slash \"quoted\"\\nline");
}

TEST(Exposition, ValuesAreShortestRoundTripAndSpecialsSpelledAsPrometheusDoes) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1e-3), "0.001");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(format_value(0.1 + 0.2)), 0.1 + 0.2);
}

TEST(Exposition, WriterProducesHelpTypeAndSamples) {
  ExpositionWriter out;
  out.family("x_total", "Things.\nMore", "counter");
  out.sample("x_total", {{"a", "1"}, {"b", "q\""}}, 3);
  out.sample("x_total", {}, 1.5);
  EXPECT_EQ(out.text(),
            "# HELP x_total Things.\\nMore\n# TYPE x_total counter\n"
            "x_total{a=\"1\",b=\"q\\\"\"} 3\nx_total 1.5\n");
}

TEST(Metrics, CounterOnlyGoesUpAndGaugeGoesBothWays) {
  Counter c;
  c.add();
  c.add(2.5);
  c.add(-10);
  EXPECT_DOUBLE_EQ(c.value(), 3.5);
  Gauge g;
  g.set(5);
  g.add(-7);
  EXPECT_DOUBLE_EQ(g.value(), -2);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInclusiveUpperBounds) {
  Histogram h({1, 2, 4});
  for (double v : {0.5, 1.0, 1.5, 3.0, 100.0}) h.observe(v);
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(h.count(), 5u);
  EXPECT_DOUBLE_EQ(h.sum(), 106.0);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Registry registry;
  auto& family = registry.counter("c_total", "c", {"k"});
  auto& hist = registry.histogram("h_seconds", "h", {1.0});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        family.with({"v"}).add();
        hist.get().observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_DOUBLE_EQ(family.with({"v"}).value(), 40000);
  EXPECT_EQ(hist.get().count(), 40000u);
  EXPECT_EQ(hist.get().cumulative_counts().front(), 40000u);
}

TEST(Metrics, RegistryRendersFamiliesInOrderWithHistogramSeries) {
  Registry registry;
  registry.counter("a_total", "A.", {"phase"}).with({"Failed"}).add(2);
  auto& h = registry.histogram("b_seconds", "B.", {0.1, 1}, {"tier"});
  h.with({"fast"}).observe(0.05);
  h.with({"fast"}).observe(5);
  registry.gauge("c", "C.").get().set(7);
  EXPECT_EQ(registry.render(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total{phase=\"Failed\"} 2\n"
            "# HELP b_seconds B.\n# TYPE b_seconds histogram\n"
            "b_seconds_bucket{tier=\"fast\",le=\"0.1\"} 1\n"
            "b_seconds_bucket{tier=\"fast\",le=\"1\"} 1\n"
            "b_seconds_bucket{tier=\"fast\",le=\"+Inf\"} 2\n"
            "b_seconds_sum{tier=\"fast\"} 5.05\n"
            "b_seconds_count{tier=\"fast\"} 2\n"
            "# HELP c C.\n# TYPE c gauge\nc 7\n");
}

TEST(Metrics, CollectorsRunBeforeEachRender) {
  Registry registry;
  auto& g = registry.gauge("sampled", "S.");
  int calls = 0;
  registry.on_collect([&] { g.get().set(++calls); });
  EXPECT_NE(registry.render().find("sampled 1\n"), std::string::npos);
  EXPECT_NE(registry.render().find("sampled 2\n"), std::string::npos);
}

TEST(Metrics, SeriesBeyondTheLimitShareOneOtherSeries) {
  Registry registry;
  auto& family = registry.counter("m_total", "M.", {"module"});
  for (std::size_t i = 0; i < kMaxSeriesPerFamily + 10; ++i)
    family.with({"module-" + std::to_string(i)}).add();
  EXPECT_DOUBLE_EQ(family.with({"other"}).value(), 10);
  EXPECT_DOUBLE_EQ(family.with({"module-1"}).value(), 1);  // existing series still counted
}

TEST(Metrics, BadNamesAndDuplicatesAreRefused) {
  Registry registry;
  EXPECT_THROW(registry.counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("x_total", "x", {"le"}), std::invalid_argument);
  registry.counter("dup_total", "x");
  EXPECT_THROW(registry.gauge("dup_total", "x"), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "x", {2, 1}), std::invalid_argument);
}

TEST(PluginMetrics, ProcessGaugesReadProc) {
  EXPECT_GT(process_resident_bytes(), 1 << 20);
  const double before = process_open_fds();
  EXPECT_GT(before, 2);
  const int fd = dup(0);
  EXPECT_EQ(process_open_fds(), before + 1);
  close(fd);
  const std::string text = plugin_metrics().registry.render();
  EXPECT_NE(text.find("# TYPE wwp_steps_total counter"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos);
}
