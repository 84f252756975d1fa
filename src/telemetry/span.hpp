// Spans: what a step did and how long each part took. A Span without data is a no-op (tracing
// off, or the trace not sampled), so instrumented code costs a null check when nobody listens.
// Ended spans go to a SpanSink (the OTLP exporter), which must not block.
//
// The span of the step a thread is working on is that thread's "active" span (ActiveSpan), so
// code deeper down (module resolution, compilation, artifact transfers) starts its child with
// start_child() without the span being passed through every signature.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace wwp::telemetry {

using AttributeValue = std::variant<std::string, std::int64_t, double, bool>;

enum class SpanKind { Internal = 1, Server = 2, Client = 3 };

struct SpanData {
  std::array<std::uint8_t, 16> trace_id{};
  std::array<std::uint8_t, 8> span_id{};
  std::array<std::uint8_t, 8> parent_span_id{};  // all zero: a root span
  std::string name;
  SpanKind kind = SpanKind::Internal;
  std::uint64_t start_unix_nanos = 0;
  std::uint64_t end_unix_nanos = 0;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  bool error = false;
  std::string status_message;
};

class SpanSink {
 public:
  virtual ~SpanSink() = default;
  // Takes an ended span; never blocks on the network (it may drop the span instead).
  virtual void consume(SpanData&& span) = 0;
};

class Span {
 public:
  Span() = default;  // a no-op span
  Span(std::unique_ptr<SpanData> data, std::shared_ptr<SpanSink> sink);
  Span(Span&&) noexcept = default;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { end(); }

  bool recording() const { return data_ != nullptr; }
  void set(std::string key, AttributeValue value);
  // Status "error" with a description (a failed step, a failed fetch).
  void set_error(std::string message);
  // A child span in the same trace, started now (a no-op span if this one is).
  Span child(std::string name, SpanKind kind = SpanKind::Internal) const;
  // Records the end time and hands the span to the sink; later calls do nothing.
  void end();

  const SpanData* data() const { return data_.get(); }

 private:
  std::unique_ptr<SpanData> data_;
  std::shared_ptr<SpanSink> sink_;
};

// Makes `span` the thread's active span while this object lives (scopes nest).
class ActiveSpan {
 public:
  explicit ActiveSpan(Span& span);
  ~ActiveSpan();
  ActiveSpan(const ActiveSpan&) = delete;
  ActiveSpan& operator=(const ActiveSpan&) = delete;

 private:
  Span* previous_;
};

// A child of the thread's active span; a no-op span when there is none.
Span start_child(std::string name, SpanKind kind = SpanKind::Internal);
// The thread's active span, or nullptr.
Span* active_span();

std::uint64_t unix_nanos_now();
// Random non-zero identifiers (a per-thread generator seeded from std::random_device).
std::array<std::uint8_t, 16> new_trace_id();
std::array<std::uint8_t, 8> new_span_id();
std::string to_hex(const std::uint8_t* bytes, std::size_t size);

}  // namespace wwp::telemetry
