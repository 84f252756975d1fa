// Process start to ready: spawns `wasm-workflows-plugin serve` and polls /readyz every 200 us;
// reports min/median/max over N runs, then the RSS of an idle server. The floor, measured the same
// way: `wasm-workflows-plugin version` from spawn to exit (loader, libraries, static constructors).
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

static long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

int main(int argc, char** argv) {
  const std::string binary = argc > 1 ? argv[1] : "build/wasm-workflows-plugin";
  const int runs = argc > 2 ? std::stoi(argv[2]) : 20;
  const std::string cache = "/tmp/wwp-startup-bench";
  std::vector<double> ms;
  long idle_rss = 0;
  for (int i = 0; i < runs; ++i) {
    const int port = 39100 + i * 7 % 800;
    std::vector<std::string> args = {binary,
                                     "serve",
                                     "--port",
                                     std::to_string(port),
                                     "--insecure-no-token",
                                     "--fs-cache-dir",
                                     cache,
                                     "--log-level",
                                     "warn"};
    std::vector<char*> cargv;
    for (auto& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, cargv[0], nullptr, nullptr, cargv.data(), environ) != 0) return 1;
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(0, 100000);
    while (true) {
      if (auto res = client.Get("/readyz"); res && res->status == 200) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (std::chrono::steady_clock::now() - start > std::chrono::seconds(10)) return 2;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    if (i == runs - 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      idle_rss = rss_kib(pid);
    }
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  std::vector<double> floor_ms;
  for (int i = 0; i < runs; ++i) {
    std::vector<std::string> args = {binary, "version"};
    std::vector<char*> cargv;
    for (auto& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, cargv[0], &quiet, nullptr, cargv.data(), environ) != 0) return 1;
    waitpid(pid, nullptr, 0);
    floor_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    posix_spawn_file_actions_destroy(&quiet);
  }
  std::sort(ms.begin(), ms.end());
  std::sort(floor_ms.begin(), floor_ms.end());
  const double median = ms[ms.size() / 2];
  const double floor_median = floor_ms[floor_ms.size() / 2];
  std::printf("start_to_ready_ms min=%.2f median=%.2f max=%.2f runs=%d\n", ms.front(), median,
              ms.back(), runs);
  std::printf("floor_version_exit_ms median=%.2f ratio=%.2fx\n", floor_median,
              median / floor_median);
  std::printf("idle_rss_mib %.1f\n", idle_rss / 1024.0);
  return 0;
}
