// Sends ended spans to an OTLP/HTTP collector (JSON encoding) in batches, on its own thread, so a
// slow or dead collector never slows or fails a step: consume() only appends to a bounded queue
// (a full queue drops the span and counts it), each export has a short deadline and is not
// retried (its spans are dropped and counted; the collector is then left alone for a pause that
// doubles up to 30 s), and shutdown() sends what is left within a bound.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "net/http.hpp"
#include "telemetry/span.hpp"
#include "telemetry/tracing_config.hpp"

namespace wwp::telemetry {

class OtlpExporter : public SpanSink {
 public:
  explicit OtlpExporter(TracingConfig config);
  ~OtlpExporter() override;  // shutdown()
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  void consume(SpanData&& span) override;
  // Exports what is queued, waiting at most `within` (then drops the rest, counted).
  void flush(std::chrono::milliseconds within);
  // Stops the thread after exporting what is queued within config.shutdown_flush (an export in
  // flight is cut at that bound too).
  void shutdown();

  struct Stats {
    std::uint64_t exported = 0;
    std::uint64_t dropped_queue_full = 0;
    std::uint64_t dropped_export_failed = 0;
    std::uint64_t dropped_shutdown = 0;
    std::uint64_t exports_failed = 0;  // requests that failed (each drops its batch)
  };
  Stats stats() const;

 private:
  void run();
  // Posts one batch; false if the collector did not take it.
  bool post(const std::vector<SpanData>& batch, Deadline deadline);

  TracingConfig config_;
  net::Client client_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::deque<SpanData> queue_;
  std::size_t in_flight_ = 0;  // spans taken by the thread and not yet settled
  bool flush_requested_ = false;
  Deadline flush_deadline_ = kNoDeadline;  // set by shutdown(): bounds the exports it waits for
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace wwp::telemetry
