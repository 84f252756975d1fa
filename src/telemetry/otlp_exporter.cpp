#include "telemetry/otlp_exporter.hpp"

#include <spdlog/spdlog.h>

#include "telemetry/otlp_json.hpp"
#include "telemetry/plugin_metrics.hpp"

namespace wwp::telemetry {

OtlpExporter::OtlpExporter(TracingConfig config) : config_(std::move(config)) {
  thread_ = std::thread([this] { run(); });
}

OtlpExporter::~OtlpExporter() { shutdown(); }

void OtlpExporter::consume(SpanData&& span) {
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < config_.max_queue) {
      queue_.push_back(std::move(span));
      if (queue_.size() >= config_.max_batch) wake_.notify_one();
      return;
    }
    stopping = stopping_;
    if (stopping) {
      ++stats_.dropped_shutdown;
    } else {
      ++stats_.dropped_queue_full;
    }
  }
  plugin_metrics().spans_dropped.with({stopping ? "shutdown" : "queue_full"}).add();
}

OtlpExporter::Stats OtlpExporter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool OtlpExporter::post(const std::vector<SpanData>& batch, Deadline deadline) {
  net::Request request;
  request.method = "POST";
  request.url = config_.endpoint;
  request.headers = config_.headers;
  request.headers.push_back("Content-Type: application/json");
  request.body = net::Body::from_string(encode_otlp_json(config_.resource, batch));
  request.deadline = deadline;
  request.max_body_bytes = 64 << 10;
  request.transport.connect_timeout = config_.timeout;
  request.transport.stall_timeout = std::chrono::seconds(std::max<long long>(
      1, std::chrono::duration_cast<std::chrono::seconds>(config_.timeout).count()));
  // A collector is reached directly; the proxy variables are for the plugin's downloads.
  request.transport.proxy_from_environment = false;
  const net::Outcome outcome = client_.perform(request);
  if (outcome.ok() && outcome.response.status / 100 == 2) return true;
  const std::string why =
      outcome.ok() ? "HTTP " + std::to_string(outcome.response.status) : outcome.message;
  spdlog::debug("trace export to {} failed: {}", config_.endpoint, why);
  return false;
}

void OtlpExporter::run() {
  std::unique_lock lock(mutex_);
  // After a failed export the collector is left alone for a while (doubling up to 30 s): a dead
  // collector then costs one attempt per pause, not an encode-and-connect for every batch that
  // fills, and spans arriving meanwhile are dropped at the door (consume) for the price of a lock.
  int failures = 0;
  auto next_try = std::chrono::steady_clock::now();
  while (true) {
    if (failures > 0) {
      wake_.wait_until(lock, next_try, [this] { return stopping_ || flush_requested_; });
    } else {
      wake_.wait_for(lock, config_.schedule_delay, [this] {
        return stopping_ || flush_requested_ || queue_.size() >= config_.max_batch;
      });
    }
    if (queue_.empty()) {
      flush_requested_ = false;
      drained_.notify_all();
      if (stopping_) return;
      continue;
    }
    std::vector<SpanData> batch;
    while (!queue_.empty() && batch.size() < config_.max_batch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    in_flight_ = batch.size();
    // At shutdown an export may not outlast the shutdown bound.
    const Deadline deadline = std::min(deadline_in(config_.timeout), flush_deadline_);
    lock.unlock();
    const bool sent = post(batch, deadline);
    auto& metrics = plugin_metrics();
    if (sent) {
      metrics.spans_exported.get().add(static_cast<double>(batch.size()));
    } else {
      metrics.spans_dropped.with({"export_failed"}).add(static_cast<double>(batch.size()));
    }
    lock.lock();
    in_flight_ = 0;
    if (sent) {
      stats_.exported += batch.size();
      failures = 0;
    } else {
      stats_.dropped_export_failed += batch.size();
      ++stats_.exports_failed;
      const auto pause = std::min<std::chrono::milliseconds>(
          std::max<std::chrono::milliseconds>(config_.schedule_delay, std::chrono::seconds(1)) *
              (1LL << std::min(failures, 5)),
          std::chrono::seconds(30));
      ++failures;
      next_try = std::chrono::steady_clock::now() + pause;
    }
    if (queue_.empty()) {
      flush_requested_ = false;
      drained_.notify_all();
    }
  }
}

void OtlpExporter::flush(std::chrono::milliseconds within) {
  std::unique_lock lock(mutex_);
  flush_requested_ = true;
  wake_.notify_one();
  drained_.wait_for(lock, within, [this] { return queue_.empty() && in_flight_ == 0; });
}

void OtlpExporter::shutdown() {
  {
    std::unique_lock lock(mutex_);
    if (!thread_.joinable()) return;
    flush_requested_ = true;
    flush_deadline_ = deadline_in(config_.shutdown_flush);
    wake_.notify_one();
    // Bounded: a dead collector costs at most the flush bound, not an export timeout per batch.
    drained_.wait_for(lock, config_.shutdown_flush,
                      [this] { return queue_.empty() && in_flight_ == 0; });
    stopping_ = true;
    if (!queue_.empty()) {
      stats_.dropped_shutdown += queue_.size();
      plugin_metrics().spans_dropped.with({"shutdown"}).add(static_cast<double>(queue_.size()));
      queue_.clear();
    }
    wake_.notify_one();
  }
  // The thread ends once its current export (bounded by config.timeout) returns.
  thread_.join();
}

}  // namespace wwp::telemetry
