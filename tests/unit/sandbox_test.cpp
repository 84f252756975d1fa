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
  std::unique_ptr<sandbox::Engine> engine;
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
