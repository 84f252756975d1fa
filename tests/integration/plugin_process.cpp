#include "plugin_process.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace wwp::testing {

namespace fs = std::filesystem;

fs::path module_dir() { return WWP_TEST_MODULE_DIR; }
fs::path plugin_binary() { return WWP_TEST_PLUGIN_BINARY; }

fs::path fresh_temp_dir(const std::string& name) {
  // Under one TempDir per test process, removed (with whatever the tests left) at exit.
  static const wwp::test::TempDir root("wwp-it-");
  static std::atomic<int> counter{0};
  fs::path dir = root / (name + "-" + std::to_string(counter++));
  fs::create_directories(dir);
  return dir;
}

PluginProcess::PluginProcess(std::vector<std::string> extra_args, fs::path cache_dir) {
  static int counter = 0;
  dir_ = fresh_temp_dir("proc" + std::to_string(counter++));
  cache_dir_ = cache_dir.empty() ? dir_ / "cache" : cache_dir;
  std::ofstream(dir_ / "token") << token_ << "\n";
  port_ = free_port();
  std::vector<std::string> args = {plugin_binary().string(),
                                   "serve",
                                   "--port",
                                   std::to_string(port_),
                                   "--module-dir",
                                   module_dir().string(),
                                   "--fs-cache-dir",
                                   cache_dir_.string(),
                                   "--token-file",
                                   (dir_ / "token").string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  process_ = wwp::test::ChildProcess(args, dir_ / "plugin.log");
  if (!process_.started()) throw std::runtime_error("cannot start " + args[0]);
  httplib::Client client("127.0.0.1", port_);
  for (int i = 0; i < 600; ++i) {
    if (auto res = client.Get("/healthz"); res && res->status == 200) return;
    if (process_.exited()) throw std::runtime_error("plugin exited at start: " + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("plugin did not become healthy: " + log());
}

PluginProcess::~PluginProcess() {
  process_.kill_now();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

int PluginProcess::terminate() { return process_.signal_and_wait(SIGTERM); }

std::string PluginProcess::log() const {
  std::ifstream in(dir_ / "plugin.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

PluginProcess::Reply PluginProcess::post(const std::string& body,
                                         const std::string& authorization) const {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(60, 0);
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  auto res = client.Post("/api/v1/template.execute", headers, body, "application/json");
  Reply reply;
  if (!res) return reply;
  reply.status = res->status;
  reply.raw = res->body;
  reply.body = Json::parse(res->body, nullptr, false);
  if (reply.body.is_discarded()) reply.body = nullptr;
  return reply;
}

PluginProcess::Reply PluginProcess::execute(const Json& tmpl,
                                            const std::string& workflow_uid) const {
  Json body = {
      {"workflow",
       {{"metadata", {{"name", "wf-test"}, {"namespace", "argo"}, {"uid", workflow_uid}}}}},
      {"template", tmpl}};
  return post(body.dump(), "Bearer " + token_);
}

Json wasm_template(const std::string& file, Json extra) {
  Json wasm = {{"module", {{"path", file}}}};
  for (auto& [k, v] : extra.items()) wasm[k] = v;
  return {{"name", "step"}, {"plugin", {{"wasm", wasm}}}};
}

std::vector<std::string> used_step_dirs(const std::filesystem::path& parent) {
  namespace fs = std::filesystem;
  const std::vector<std::string> layout = {"tmp", "work", "work/artifacts-in",
                                           "work/artifacts-out"};
  std::vector<std::string> used;
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with("step-")) continue;
    std::vector<std::string> content;
    std::error_code walk;
    for (fs::recursive_directory_iterator entry(it->path(), walk), last; !walk && entry != last;
         entry.increment(walk)) {
      if (entry->is_symlink() || !entry->is_directory()) content.emplace_back("file");
      content.push_back(fs::relative(entry->path(), it->path()).string());
    }
    std::sort(content.begin(), content.end());
    if (walk || content != layout) used.push_back(name);
  }
  return used;
}

}  // namespace wwp::testing
