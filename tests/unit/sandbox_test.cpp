// The engine against small WAT modules: exit codes, traps, timeouts, output capture and limits.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "modules/compiled_cache.hpp"
#include "sandbox/engine.hpp"
#include "sandbox/run.hpp"

using namespace wwp;
using namespace std::chrono_literals;

namespace {

// A WASI command that writes `text` to fd `fd` `times` times and then calls proc_exit(code).
// `text` is a WAT string literal body; `length` its size in bytes once escapes are decoded.
std::string writer_wat(int fd, const std::string& text, std::size_t length, int times, int code) {
  return R"((module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) ")" +
         text + R"(")
  (func (export "_start") (local $i i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const )" +
         std::to_string(length) + R"())
    (block $done (loop $again
      (br_if $done (i32.ge_s (local.get $i) (i32.const )" +
         std::to_string(times) + R"()))
      (drop (call $fd_write (i32.const )" +
         std::to_string(fd) + R"() (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $again)))
    (call $proc_exit (i32.const )" +
         std::to_string(code) + R"())))
)";
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sandbox::EngineSettings settings;
    settings.pool_instances = 8;
    settings.max_memory_bytes = 1 << 30;
    settings.tiered = tiered();
    auto created = sandbox::Engine::create(settings);
    ASSERT_TRUE(created.ok()) << created.error().message;
    engine = std::move(*created);
  }
  sandbox::RunOutcome run(const std::string& wat, sandbox::RunLimits limits = {}) {
    auto module = engine->compile(bytes(wat));
    EXPECT_TRUE(module.ok()) << (module.ok() ? "" : module.error().message);
    sandbox::RunSpec spec;
    spec.argv = {"test"};
    spec.limits = limits;
    auto outcome = sandbox::run(*engine, *module, spec);
    EXPECT_TRUE(outcome.ok()) << (outcome.ok() ? "" : outcome.error().message);
    return outcome.ok() ? *outcome : sandbox::RunOutcome{};
  }
  virtual bool tiered() const { return false; }
  std::unique_ptr<sandbox::Engine> engine;
};

class TieredTest : public SandboxTest {
 protected:
  bool tiered() const override { return true; }
};

}  // namespace

TEST_F(SandboxTest, CapturesStdoutStderrAndExitCode) {
  auto out = run(writer_wat(1, "hi\\0a", 3, 2, 0));
  EXPECT_EQ(out.end, sandbox::RunOutcome::End::Exited);
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(out.stdout_data, "hi\nhi\n");
  auto err = run(writer_wat(2, "oops", 4, 1, 7));
  EXPECT_EQ(err.exit_code, 7);
  EXPECT_EQ(err.stderr_data, "oops");
  EXPECT_TRUE(err.stdout_data.empty());
}

TEST_F(SandboxTest, StdoutCapIsALimit) {
  sandbox::RunLimits limits;
  limits.stdout_bytes = 1024;
  auto out = run(writer_wat(1, "0123456789", 10, 1000, 0), limits);
  EXPECT_EQ(out.end, sandbox::RunOutcome::End::OutputLimit);
  EXPECT_EQ(out.message, "stdout limit 1Ki exceeded");
}

TEST_F(SandboxTest, InfiniteLoopStopsAtTheTimeout) {
  sandbox::RunLimits limits;
  limits.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  auto out = run(R"((module (func (export "_start") (loop $l (br $l)))))", limits);
  EXPECT_EQ(out.end, sandbox::RunOutcome::End::TimedOut);
  EXPECT_EQ(out.message, "timeout 200ms exceeded");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(SandboxTest, TrapCarriesABacktrace) {
  auto out = run(R"((module (func $inner unreachable) (func (export "_start") call $inner)))");
  EXPECT_EQ(out.end, sandbox::RunOutcome::End::Trapped);
  EXPECT_NE(out.message.find("unreachable"), std::string::npos) << out.message;
  EXPECT_NE(out.message.find("backtrace"), std::string::npos) << out.message;
}

TEST_F(SandboxTest, MemoryLimitStopsGrowth) {
  sandbox::RunLimits limits;
  limits.memory_bytes = 2 << 16;  // two pages
  auto out = run(R"((module (memory (export "memory") 1)
    (func (export "_start") (if (i32.eq (memory.grow (i32.const 10)) (i32.const -1)) (then unreachable)))))",
                 limits);
  EXPECT_EQ(out.end, sandbox::RunOutcome::End::Trapped);
}

TEST_F(SandboxTest, StartupErrorsAreErrors) {
  auto no_start = engine->compile(bytes("(module)"));
  ASSERT_TRUE(no_start.ok());
  sandbox::RunSpec spec;
  EXPECT_NE(sandbox::run(*engine, *no_start, spec).error().message.find("no _start"),
            std::string::npos);
  auto missing =
      engine->compile(bytes(R"((module (import "env" "nope" (func)) (func (export "_start"))))"));
  ASSERT_TRUE(missing.ok());
  EXPECT_NE(sandbox::run(*engine, *missing, spec).error().message.find("cannot instantiate"),
            std::string::npos);
  EXPECT_FALSE(engine->compile(bytes("\0asm garbage")).ok());
  spec.limits.memory_bytes = 1ULL << 40;
  EXPECT_EQ(sandbox::run(*engine, *missing, spec).error().kind, ErrorKind::LimitExceeded);
}

TEST_F(SandboxTest, CompiledCacheMemoryDiskCorruptionAndSingleFlight) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("wwp-cache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string wat = writer_wat(1, "x", 1, 1, 0);
  const fs::path wasm = dir / "m.wat";
  std::ofstream(wasm) << wat;
  const Digest digest = sha256_of(wat);
  {
    modules::CompiledCache cache(*engine, dir / "compiled", 64 << 20);
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&] { EXPECT_TRUE(cache.get(digest, wasm).ok()); });
    for (auto& t : threads) t.join();
    EXPECT_EQ(cache.stats().compilations, 1u);
    EXPECT_TRUE(fs::exists(cache.disk_path(digest)));
  }
  {
    modules::CompiledCache cache(*engine, dir / "compiled", 64 << 20);
    ASSERT_TRUE(cache.get(digest, wasm).ok());
    EXPECT_EQ(cache.stats().disk_hits, 1u);
    EXPECT_EQ(cache.stats().compilations, 0u);
    // Flip a byte in the middle of the precompiled file: detected, removed and rebuilt.
    const auto path = cache.disk_path(digest);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    f.put('\x5a');
    f.close();
  }
  {
    modules::CompiledCache cache(*engine, dir / "compiled", 64 << 20);
    auto module = cache.get(digest, wasm);
    ASSERT_TRUE(module.ok());
    EXPECT_EQ(cache.stats().corrupt_entries, 1u);
    EXPECT_EQ(cache.stats().compilations, 1u);
    sandbox::RunSpec spec;
    EXPECT_EQ(sandbox::run(*engine, *module, spec)->stdout_data, "x");
  }
  fs::remove_all(dir);
}

namespace {

// A WASI command that sleeps `nanos` in poll_oneoff on one relative monotonic clock, then checks
// that exactly that subscription's event came back (else it traps).
std::string sleeper_wat(std::int64_t nanos) {
  return R"((module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i64.store (i32.const 0) (i64.const 42))
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const )" +
         std::to_string(nanos) + R"())
    (if (i32.ne (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))
                (i32.const 0)) (then unreachable))
    (if (i32.ne (i32.load (i32.const 128)) (i32.const 1)) (then unreachable))
    (if (i64.ne (i64.load (i32.const 64)) (i64.const 42)) (then unreachable))))
)";
}

constexpr const char* kSpinWat = R"((module (func (export "_start") (loop $l (br $l)))))";

}  // namespace

TEST_F(SandboxTest, ShortSleepReturnsItsEvent) {
  auto out = run(sleeper_wat(5'000'000));
  EXPECT_EQ(out.end, sandbox::RunOutcome::End::Exited) << out.message;
  EXPECT_EQ(out.exit_code, 0);
}

TEST_F(SandboxTest, SleepInsideAHostCallEndsAtTheDeadline) {
  sandbox::RunLimits limits;
  limits.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  auto out = run(sleeper_wat(3'600'000'000'000), limits);  // an hour
  EXPECT_EQ(out.end, sandbox::RunOutcome::End::TimedOut);
  EXPECT_EQ(out.message, "timeout 300ms exceeded");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

TEST_F(SandboxTest, StopSignalEndsARunningAndASleepingStep) {
  for (const std::string& wat : {std::string(kSpinWat), sleeper_wat(3'600'000'000'000)}) {
    auto module = engine->compile(bytes(wat));
    ASSERT_TRUE(module.ok());
    sandbox::RunSpec spec;
    spec.stop = std::make_shared<sandbox::StopSignal>();
    std::thread stopper([&] {
      std::this_thread::sleep_for(50ms);
      spec.stop->request({"disk limit 1Mi exceeded", false});
    });
    auto out = sandbox::run(*engine, *module, spec);
    stopper.join();
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->end, sandbox::RunOutcome::End::Stopped);
    EXPECT_EQ(out->message, "disk limit 1Mi exceeded");
    EXPECT_FALSE(out->stop_transient);
  }
}

TEST_F(SandboxTest, InterruptRunningStopsEveryStepNowAndLater) {
  auto module = engine->compile(bytes(kSpinWat));
  ASSERT_TRUE(module.ok());
  std::thread interrupter([&] {
    // Wait until the step is registered as running, then interrupt.
    while (engine->interrupt_running("probe") == 0) std::this_thread::sleep_for(5ms);
  });
  sandbox::RunSpec spec;
  auto running = sandbox::run(*engine, *module, spec);
  interrupter.join();
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->end, sandbox::RunOutcome::End::Stopped);
  EXPECT_TRUE(running->stop_transient);
  // The first reason given wins, also for steps started afterwards.
  auto later = sandbox::run(*engine, *module, spec);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->end, sandbox::RunOutcome::End::Stopped);
  EXPECT_EQ(later->message, "probe");
}

TEST_F(SandboxTest, ExitStatusesAbove125AreExitCodes) {
  for (int code : {0, 3, 126, 255}) {
    auto out = run(writer_wat(1, "x", 1, 1, code));
    EXPECT_EQ(out.end, sandbox::RunOutcome::End::Exited) << code << ": " << out.message;
    EXPECT_EQ(out.exit_code, code);
    EXPECT_EQ(out.stdout_data, "x");
  }
}

TEST_F(SandboxTest, PrecompiledFileOfAnotherModuleIsNeverLoaded) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("wwp-seal-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string wat_a = writer_wat(1, "a", 1, 1, 0);
  const std::string wat_b = writer_wat(1, "b", 1, 1, 0);
  std::ofstream(dir / "a.wat") << wat_a;
  std::ofstream(dir / "b.wat") << wat_b;
  const auto digest_a = sha256_of(wat_a);
  const auto digest_b = sha256_of(wat_b);
  {
    modules::CompiledCache cache(*engine, dir / "compiled", 64 << 20);
    ASSERT_TRUE(cache.get(digest_a, dir / "a.wat").ok());
    ASSERT_TRUE(cache.get(digest_b, dir / "b.wat").ok());
    // An attacker with write access to the cache copies a's machine code under b's name.
    fs::copy_file(cache.disk_path(digest_a), cache.disk_path(digest_b),
                  fs::copy_options::overwrite_existing);
  }
  {
    modules::CompiledCache cache(*engine, dir / "compiled", 64 << 20);
    auto module = cache.get(digest_b, dir / "b.wat");
    ASSERT_TRUE(module.ok());
    EXPECT_EQ(cache.stats().corrupt_entries, 1u);
    EXPECT_EQ(cache.stats().compilations, 1u);
    sandbox::RunSpec spec;
    EXPECT_EQ(sandbox::run(*engine, *module, spec)->stdout_data, "b");
  }
  fs::remove_all(dir);
}

TEST_F(SandboxTest, CacheWithAKeyOthersCanReadIsNotUsed) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("wwp-key-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "compiled");
  {
    std::ofstream key(dir / "compiled" / "precompiled.key", std::ios::binary);
    key << std::string(32, 'k');
  }
  fs::permissions(dir / "compiled" / "precompiled.key", fs::perms(0644));
  const std::string wat = writer_wat(1, "x", 1, 1, 0);
  std::ofstream(dir / "m.wat") << wat;
  modules::CompiledCache cache(*engine, dir / "compiled", 64 << 20);
  ASSERT_TRUE(cache.get(sha256_of(wat), dir / "m.wat").ok());
  EXPECT_EQ(cache.stats().compilations, 1u);
  EXPECT_FALSE(fs::exists(dir / "compiled" / engine->fingerprint()));
  fs::remove_all(dir);
}

TEST_F(TieredTest, FirstStepsRunBaselineCodeUntilTheOptimisedCodeReplacesIt) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("wwp-tier-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string wat = writer_wat(1, "t", 1, 1, 0);
  std::ofstream(dir / "m.wat") << wat;
  const auto digest = sha256_of(wat);
  {
    modules::CompiledCache cache(*engine, dir / "compiled", 64 << 20);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        auto module = cache.get(digest, dir / "m.wat");
        ASSERT_TRUE(module.ok());
        sandbox::RunSpec spec;
        EXPECT_EQ(sandbox::run(*engine, *module, spec)->stdout_data, "t");
      });
    }
    for (auto& t : threads) t.join();
    cache.wait_for_optimizations();
    const auto stats = cache.stats();
    EXPECT_EQ(stats.baseline_compilations, 1u);  // concurrent first calls compile once
    EXPECT_EQ(stats.compilations, 1u);           // and are optimised once
    auto optimized = cache.get(digest, dir / "m.wat");
    ASSERT_TRUE(optimized.ok());
    EXPECT_FALSE(optimized->baseline());
    sandbox::RunSpec spec;
    EXPECT_EQ(sandbox::run(*engine, *optimized, spec)->stdout_data, "t");
    EXPECT_TRUE(fs::exists(cache.disk_path(digest)));
  }
  {
    // Only optimised code reaches the disk: a restart loads it without compiling at all.
    modules::CompiledCache cache(*engine, dir / "compiled", 64 << 20);
    auto module = cache.get(digest, dir / "m.wat");
    ASSERT_TRUE(module.ok());
    EXPECT_FALSE(module->baseline());
    EXPECT_EQ(cache.stats().disk_hits, 1u);
    EXPECT_EQ(cache.stats().baseline_compilations, 0u);
  }
  fs::remove_all(dir);
}

TEST_F(TieredTest, BaselineCodeHonoursTimeoutsAndStops) {
  auto module = engine->compile_baseline(bytes(kSpinWat));
  ASSERT_TRUE(module.ok()) << module.error().message;
  EXPECT_TRUE(module->baseline());
  sandbox::RunSpec spec;
  spec.limits.timeout = 100ms;
  auto out = sandbox::run(*engine, *module, spec);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->end, sandbox::RunOutcome::End::TimedOut);
}
