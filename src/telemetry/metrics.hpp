// Metric values and their registry. Updating a metric is a relaxed atomic add; finding a labelled
// series takes one short lock (a map lookup), so callers on a hot path keep the series they use.
// Rendering walks the registry under its own lock and never blocks an update for long.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/exposition.hpp"

namespace wwp::telemetry {

class Counter {
 public:
  void add(double amount = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double amount);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds`: upper bounds, strictly increasing; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound, then +Inf (== count()).
  std::vector<std::uint64_t> cumulative_counts() const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // not cumulative; last is +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Exponential bucket bounds: start, start*factor, ... (count bounds).
std::vector<double> exponential_buckets(double start, double factor, int count);

// The family's label values beyond this many series share one series whose values are all
// "other", so a caller cannot grow the exposition without bound (module references are
// user-chosen).
inline constexpr std::size_t kMaxSeriesPerFamily = 500;

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  virtual void render(ExpositionWriter& out) const = 0;

 protected:
  Labels labels_for(const std::vector<std::string>& values) const;
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

template <typename Metric>
class Family : public FamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<Metric>()>;
  Family(std::string name, std::string help, std::vector<std::string> label_names, Factory factory)
      : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
        factory_(std::move(factory)) {}

  // The series for these label values (as many as the family has label names).
  Metric& with(std::vector<std::string> values) {
    values.resize(label_names_.size());
    std::lock_guard lock(mutex_);
    auto it = series_.find(values);
    if (it != series_.end()) return *it->second;
    if (series_.size() >= kMaxSeriesPerFamily) values.assign(label_names_.size(), "other");
    auto& slot = series_[values];
    if (!slot) slot = factory_();
    return *slot;
  }
  // The series without labels (families declared with no label names).
  Metric& get() { return with({}); }

  void render(ExpositionWriter& out) const override;

 private:
  Factory factory_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

// Defined in metrics.cpp: each type renders as its Prometheus type.
template <>
void Family<Counter>::render(ExpositionWriter& out) const;
template <>
void Family<Gauge>::render(ExpositionWriter& out) const;
template <>
void Family<Histogram>::render(ExpositionWriter& out) const;

class Registry {
 public:
  Family<Counter>& counter(std::string name, std::string help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string name, std::string help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<double> bounds,
                               std::vector<std::string> label_names = {});
  // Runs just before every render (gauges sampled at scrape time: RSS, queue depth).
  void on_collect(std::function<void()> collect);

  // The whole registry in the text exposition format.
  std::string render() const;

 private:
  template <typename F>
  F& add(std::unique_ptr<F> family);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void()>> collectors_;
};

}  // namespace wwp::telemetry
