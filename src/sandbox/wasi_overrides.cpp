#include "sandbox/wasi_overrides.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "sandbox/guest_memory.hpp"
#include "sandbox/step_state.hpp"

namespace wwp::sandbox {

namespace {

using Clock = std::chrono::steady_clock;

// WASI preview 1 layouts (wasi_snapshot_preview1.witx).
constexpr std::uint64_t kSubscriptionSize = 48;
constexpr std::uint64_t kEventSize = 32;
constexpr std::uint8_t kEventClock = 0;
constexpr std::uint8_t kEventFdRead = 1;
constexpr std::uint8_t kEventFdWrite = 2;
constexpr std::uint32_t kClockRealtime = 0;
constexpr std::uint32_t kClockMonotonic = 1;
constexpr std::uint16_t kSubclockAbstime = 1;
// A sleeping module is checked against its deadline and stop signal this often.
constexpr auto kSleepSlice = std::chrono::milliseconds(5);

struct Subscription {
  std::uint64_t userdata = 0;
  std::uint8_t type = 0;
  Clock::time_point wake;  // clocks only
};

// When a clock subscription fires, on our steady clock. WASI's monotonic clock counts from the
// moment the step's WASI context was created (StepState::wasi_epoch).
std::optional<Clock::time_point> wake_time(std::uint32_t clock, std::uint64_t timeout_ns,
                                           std::uint16_t flags, const StepState& state,
                                           Clock::time_point now) {
  const bool absolute = (flags & kSubclockAbstime) != 0;
  const auto timeout = std::chrono::nanoseconds(
      std::min<std::uint64_t>(timeout_ns, std::numeric_limits<std::int64_t>::max() / 2));
  if (clock == kClockMonotonic) return absolute ? state.wasi_epoch + timeout : now + timeout;
  if (clock == kClockRealtime) {
    if (!absolute) return now + timeout;
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    return now + std::max(std::chrono::nanoseconds(0), timeout - wall);
  }
  return std::nullopt;
}

}  // namespace

void define_poll_oneoff(wasmtime::Linker& linker) {
  auto defined = linker.func_wrap(
      "wasi_snapshot_preview1", "poll_oneoff",
      [](wasmtime::Caller caller, std::int32_t in, std::int32_t out, std::int32_t count,
         std::int32_t nevents) -> wasmtime::Result<std::int32_t, wasmtime::Trap> {
        StepState& state = step_state(caller);
        auto memory = GuestMemory::of(caller);
        if (!memory) return wasi_errno::kBadf;
        const auto n = static_cast<std::uint32_t>(count);
        const auto in_at = static_cast<std::uint32_t>(in);
        const auto out_at = static_cast<std::uint32_t>(out);
        if (n == 0) return wasi_errno::kInval;  // indefinite sleep is not a thing in preview 1
        if (!memory->contains(in_at, n * kSubscriptionSize) ||
            !memory->contains(out_at, n * kEventSize)) {
          return wasi_errno::kFault;
        }

        const Clock::time_point now = Clock::now();
        std::vector<Subscription> subs(n);
        bool fd_ready = false;
        Clock::time_point earliest = Clock::time_point::max();
        for (std::uint32_t i = 0; i < n; ++i) {
          const std::uint64_t at = in_at + i * kSubscriptionSize;
          subs[i].userdata = *memory->load<std::uint64_t>(at);
          subs[i].type = *memory->load<std::uint8_t>(at + 8);
          if (subs[i].type == kEventClock) {
            auto wake = wake_time(*memory->load<std::uint32_t>(at + 16),
                                  *memory->load<std::uint64_t>(at + 24),
                                  *memory->load<std::uint16_t>(at + 40), state, now);
            if (!wake) return wasi_errno::kInval;
            subs[i].wake = *wake;
            earliest = std::min(earliest, *wake);
          } else if (subs[i].type == kEventFdRead || subs[i].type == kEventFdWrite) {
            fd_ready = true;
          } else {
            return wasi_errno::kInval;
          }
        }

        // Sleep until the earliest clock, unless a descriptor is ready already; wake up for the
        // deadline or a stop request, which end the module.
        Clock::time_point woke = now;
        if (!fd_ready) {
          while ((woke = Clock::now()) < earliest) {
            if (state.must_end(woke)) return wasmtime::Trap("interrupted while sleeping");
            std::this_thread::sleep_for(std::min<Clock::duration>(earliest - woke, kSleepSlice));
          }
        }

        std::uint32_t written = 0;
        for (const auto& sub : subs) {
          if (sub.type == kEventClock && sub.wake > woke) continue;
          const std::uint64_t at = out_at + written * kEventSize;
          std::fill_n(memory->data() + at, kEventSize, std::uint8_t{0});
          memory->store<std::uint64_t>(at, sub.userdata);
          memory->store<std::uint8_t>(at + 10, sub.type);
          ++written;
        }
        if (!memory->store<std::uint32_t>(static_cast<std::uint32_t>(nevents), written))
          return wasi_errno::kFault;
        return wasi_errno::kSuccess;
      });
  if (!defined) throw std::runtime_error("cannot define poll_oneoff: " + defined.err().message());
}

void define_proc_exit(wasmtime::Linker& linker) {
  auto defined =
      linker.func_wrap("wasi_snapshot_preview1", "proc_exit",
                       [](wasmtime::Caller caller,
                          std::int32_t status) -> wasmtime::Result<std::monostate, wasmtime::Trap> {
                         step_state(caller).exit_status = status;
                         return wasmtime::Trap("proc_exit");
                       });
  if (!defined) throw std::runtime_error("cannot define proc_exit: " + defined.err().message());
}

}  // namespace wwp::sandbox
