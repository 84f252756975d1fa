#include "telemetry/span.hpp"

#include <chrono>
#include <random>

namespace wwp::telemetry {

namespace {

thread_local Span* active = nullptr;

std::mt19937_64& generator() {
  thread_local std::mt19937_64 engine([] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }());
  return engine;
}

template <std::size_t N>
std::array<std::uint8_t, N> random_id() {
  std::array<std::uint8_t, N> id{};
  bool zero = true;
  while (zero) {
    for (std::size_t i = 0; i < N; i += 8) {
      std::uint64_t word = generator()();
      for (std::size_t j = 0; j < 8 && i + j < N; ++j)
        id[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
    }
    for (auto b : id) zero = zero && b == 0;
  }
  return id;
}

}  // namespace

Span::Span(std::unique_ptr<SpanData> data, std::shared_ptr<SpanSink> sink)
    : data_(std::move(data)), sink_(std::move(sink)) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    end();
    data_ = std::move(other.data_);
    sink_ = std::move(other.sink_);
  }
  return *this;
}

void Span::set(std::string key, AttributeValue value) {
  if (!data_) return;
  for (auto& [existing, old] : data_->attributes) {
    if (existing == key) {
      old = std::move(value);
      return;
    }
  }
  data_->attributes.emplace_back(std::move(key), std::move(value));
}

void Span::set_error(std::string message) {
  if (!data_) return;
  data_->error = true;
  data_->status_message = std::move(message);
}

Span Span::child(std::string name, SpanKind kind) const {
  if (!data_) return {};
  auto data = std::make_unique<SpanData>();
  data->trace_id = data_->trace_id;
  data->parent_span_id = data_->span_id;
  data->span_id = new_span_id();
  data->name = std::move(name);
  data->kind = kind;
  data->start_unix_nanos = unix_nanos_now();
  return Span(std::move(data), sink_);
}

void Span::end() {
  if (!data_) return;
  data_->end_unix_nanos = unix_nanos_now();
  if (sink_) sink_->consume(std::move(*data_));
  data_.reset();
}

ActiveSpan::ActiveSpan(Span& span) : previous_(active) { active = &span; }
ActiveSpan::~ActiveSpan() { active = previous_; }

Span start_child(std::string name, SpanKind kind) {
  if (active == nullptr) return {};
  return active->child(std::move(name), kind);
}

Span* active_span() { return active; }

std::uint64_t unix_nanos_now() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::array<std::uint8_t, 16> new_trace_id() { return random_id<16>(); }
std::array<std::uint8_t, 8> new_span_id() { return random_id<8>(); }

std::string to_hex(const std::uint8_t* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace wwp::telemetry
