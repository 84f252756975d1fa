#include "telemetry/metrics.hpp"

#include <algorithm>
#include <stdexcept>

namespace wwp::telemetry {

void Counter::add(double amount) {
  if (amount < 0) return;  // a counter only goes up; a negative amount is a caller's bug
  value_.fetch_add(amount, std::memory_order_relaxed);
}

void Gauge::add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double value) {
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[static_cast<std::size_t>(at)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> out;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) out.push_back(bound);
  return out;
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  // Names are constants in our code: a bad one is a programming error, caught by the unit tests.
  if (!valid_metric_name(name_)) throw std::invalid_argument("invalid metric name " + name_);
  for (const auto& label : label_names_) {
    if (!valid_label_name(label) || label == "le")
      throw std::invalid_argument("invalid label name " + label + " for " + name_);
  }
}

Labels FamilyBase::labels_for(const std::vector<std::string>& values) const {
  Labels labels;
  for (std::size_t i = 0; i < label_names_.size(); ++i)
    labels.emplace_back(label_names_[i], values[i]);
  return labels;
}

template <>
void Family<Counter>::render(ExpositionWriter& out) const {
  out.family(name_, help_, "counter");
  std::lock_guard lock(mutex_);
  for (const auto& [values, metric] : series_)
    out.sample(name_, labels_for(values), metric->value());
}

template <>
void Family<Gauge>::render(ExpositionWriter& out) const {
  out.family(name_, help_, "gauge");
  std::lock_guard lock(mutex_);
  for (const auto& [values, metric] : series_)
    out.sample(name_, labels_for(values), metric->value());
}

template <>
void Family<Histogram>::render(ExpositionWriter& out) const {
  out.family(name_, help_, "histogram");
  std::lock_guard lock(mutex_);
  const std::string bucket = name_ + "_bucket";
  for (const auto& [values, metric] : series_) {
    const Labels labels = labels_for(values);
    // Read the counts once: count and +Inf then agree even while observations arrive.
    const auto counts = metric->cumulative_counts();
    for (std::size_t i = 0; i < counts.size(); ++i) {
      const std::string le =
          i < metric->bounds().size() ? format_value(metric->bounds()[i]) : "+Inf";
      const std::pair<std::string_view, std::string_view> extra{"le", le};
      out.sample(bucket, labels, static_cast<double>(counts[i]), &extra);
    }
    out.sample(name_ + "_sum", labels, metric->sum());
    out.sample(name_ + "_count", labels, static_cast<double>(counts.back()));
  }
}

template <typename F>
F& Registry::add(std::unique_ptr<F> family) {
  std::lock_guard lock(mutex_);
  for (const auto& existing : families_) {
    if (existing->name() == family->name())
      throw std::invalid_argument("metric " + family->name() + " registered twice");
  }
  F& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> label_names) {
  return add(std::make_unique<Family<Counter>>(std::move(name), std::move(help),
                                               std::move(label_names),
                                               [] { return std::make_unique<Counter>(); }));
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> label_names) {
  return add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help),
                                             std::move(label_names),
                                             [] { return std::make_unique<Gauge>(); }));
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<double> bounds,
                                       std::vector<std::string> label_names) {
  if (!std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end())
    throw std::invalid_argument("histogram " + name + ": bounds must increase");
  return add(std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), std::move(label_names),
      [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); }));
}

void Registry::on_collect(std::function<void()> collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();
  ExpositionWriter out;
  std::lock_guard lock(mutex_);
  for (const auto& family : families_) family->render(out);
  return out.take();
}

}  // namespace wwp::telemetry
