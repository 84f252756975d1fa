#include "artifacts/repository_artifact_service.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <set>

#include "artifacts/confine.hpp"
#include "artifacts/file_tree.hpp"
#include "artifacts/file_util.hpp"
#include "artifacts/http_driver.hpp"
#include "artifacts/key_format.hpp"
#include "artifacts/raw_driver.hpp"
#include "model/legacy_abi.hpp"
#include "telemetry/plugin_metrics.hpp"

namespace wwp::artifacts {

namespace fs = std::filesystem;

namespace {

// Bytes moved (the regular files of `path`, a file or a tree) and the time it took, for
// wwp_artifact_bytes_total and wwp_artifact_transfer_duration_seconds.
void record_transfer(const char* direction, const fs::path& path,
                     std::chrono::steady_clock::time_point started) {
  auto& metrics = telemetry::plugin_metrics();
  metrics.artifact_duration.with({direction})
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  std::uint64_t bytes = 0;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code size_error;
      if (it->is_regular_file(size_error) && !it->is_symlink(size_error))
        bytes += it->file_size(size_error);
    }
  } else {
    const auto size = fs::file_size(path, ec);
    if (!ec) bytes = size;
  }
  metrics.artifact_bytes.with({direction}).add(static_cast<double>(bytes));
}

// A tree a module made is walked only within these bounds (argoexec has none; a module can nest
// directories thousands deep in a moment). PATH_MAX is what any tool unpacking the archive,
// and our own path-based steps, can handle.
constexpr std::uint64_t kMaxOutputDepth = 100;
constexpr std::uint64_t kMaxOutputPathBytes = 4096;

// Artifact names become file names under /work/artifacts-in and in object keys.
Result<Ok> check_name(const std::string& label, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return invalid(label + ": the name cannot be used as a file name");
  }
  return Ok{};
}

// The last component of a sandbox path ("/tmp/out/" -> "out"), or `fallback` for "/".
std::string base_name(std::string_view view, const std::string& fallback) {
  while (!view.empty() && view.back() == '/') view.remove_suffix(1);
  auto slash = view.rfind('/');
  std::string_view base = slash == std::string_view::npos ? view : view.substr(slash + 1);
  return base.empty() || base == "." ? fallback : std::string(base);
}

std::string same_endpoint(std::string endpoint) {
  for (const char* scheme : {"https://", "http://"}) {
    if (endpoint.starts_with(scheme)) endpoint = endpoint.substr(std::string_view(scheme).size());
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

// Where a module of the earlier ABI put an output it reported: its path joined under
// /work/artifacts-out, as the earlier SDK's output_artifact_path does ({path: /out.png} is
// /work/artifacts-out/out.png). A path already below /work/artifacts-out is also looked for as
// written, as this plugin documented before. Nothing outside /work/artifacts-out is read, so a
// module cannot upload arbitrary files of its sandbox under a name the template never declared.
std::vector<std::string> reported_views(const model::Artifact& artifact) {
  const std::string path = artifact.path.empty() ? artifact.name : artifact.path;
  std::vector<std::string> views{model::legacy_output_path(path)};
  if (path.starts_with(model::legacy_output_path("") + "/")) views.push_back(path);
  return views;
}

Result<Ok> make_parents(const fs::path& root, const fs::path& host) {
  WWP_TRY(check_inside(root, host.parent_path()));
  std::error_code ec;
  fs::create_directories(host.parent_path(), ec);
  if (ec) return failed("cannot create " + host.parent_path().string() + ": " + ec.message());
  return Ok{};
}

}  // namespace

class RepositoryArtifactService::Call {
 public:
  Call(RepositorySource& source, const fs::path& root, const StepContext& step)
      : source_(source), root_(root), step_(step) {}

  Result<std::optional<ResolvedRepository>> default_repository() {
    if (!resolved_) {
      auto repository = source_.default_repository(step_.workflow.ns);
      if (!repository) return repository.error();
      resolved_ = std::move(*repository);
    }
    return *resolved_;
  }

  std::string no_repository_message() const {
    return "no artifact repository configured (configure one with a repository configuration "
           "file or Kubernetes discovery; sources: " +
           source_.describe_sources() + ")";
  }

  // The repository an artifact's own s3 block points at, with credentials. Key-only locations
  // (the usual form after the controller resolved a reference) use the default repository, as
  // argoexec's Relocate does.
  Result<std::pair<S3Repository, S3Credentials>> locate(const model::S3Location& location,
                                                        const std::string& label) {
    if (location.bucket.empty() || location.endpoint.empty()) {
      auto repository = default_repository();
      if (!repository) return repository.error().context(label);
      if (!*repository) return failed(label + ": " + no_repository_message());
      return std::pair{(*repository)->s3, (*repository)->credentials};
    }
    S3Repository own;
    own.endpoint = location.endpoint;
    own.bucket = location.bucket;
    own.region = location.region;
    own.insecure = location.insecure.value_or(false);
    own.access_key_secret = location.access_key_secret;
    own.secret_key_secret = location.secret_key_secret;
    std::optional<ResolvedRepository> fallback;
    if (!location.access_key_secret || !location.secret_key_secret) {
      // Only needed for its credentials (and addressing style) when the endpoints match.
      auto repository = default_repository();
      if (!repository) return repository.error().context(label);
      fallback = *repository;
    }
    if (fallback && same_endpoint(fallback->s3.endpoint) == same_endpoint(own.endpoint)) {
      own.addressing = fallback->s3.addressing;
      if (!location.insecure) own.insecure = fallback->s3.insecure;
      if (own.region.empty()) own.region = fallback->s3.region;
    }
    if (location.path_style)
      own.addressing = *location.path_style ? S3Addressing::Path : S3Addressing::VirtualHost;
    auto credentials = source_.credentials_for(location, step_.workflow.ns, fallback);
    if (!credentials) return credentials.error().context(label);
    return std::pair{own, *credentials};
  }

  const fs::path& root() const { return root_; }
  const StepContext& step() const { return step_; }

 private:
  RepositorySource& source_;
  const fs::path& root_;
  const StepContext& step_;
  std::optional<std::optional<ResolvedRepository>> resolved_;
};

RepositoryArtifactService::RepositoryArtifactService(ArtifactSettings settings,
                                                     std::shared_ptr<RepositorySource> source)
    : settings_(std::move(settings)), source_(std::move(source)) {
  limits_.max_bytes = settings_.max_extract_bytes;
  limits_.max_entries = settings_.max_extract_entries;
}

S3Client RepositoryArtifactService::client_for(const S3Repository& repository,
                                               const S3Credentials& credentials) const {
  S3ClientOptions options;
  options.retry = settings_.retry;
  options.part_size = settings_.multipart_part_size;
  options.transfer = settings_.transfer;
  return S3Client(endpoint_of(repository), credentials, options);
}

// ---- inputs ----

Result<Ok> RepositoryArtifactService::stage_inputs(const model::Template& tmpl,
                                                   const fs::path& sandbox_root,
                                                   const StepContext& step) {
  if (tmpl.input_artifacts.empty()) return Ok{};
  Call call(*source_, sandbox_root, step);
  // Staging inside the sandbox keeps every move a rename on one filesystem; the directory is
  // gone before the module starts.
  auto staging = TempDir::create(sandbox_root, ".wwp-staging-");
  if (!staging) return staging.error();
  for (std::size_t i = 0; i < tmpl.input_artifacts.size(); ++i) {
    const std::string doing = "placing input artifact " + tmpl.input_artifacts[i].name;
    WWP_TRY(step.check_deadline(doing));
    auto staged = stage_one(call, tmpl.input_artifacts[i], i, staging->path());
    if (!staged) return step.at_deadline(staged.error(), doing);
  }
  return Ok{};
}

Result<bool> RepositoryArtifactService::fetch(Call& call, const model::Artifact& artifact,
                                              const fs::path& download, const fs::path& directory) {
  const std::string label = "input artifact " + artifact.name;
  if (artifact.raw) {
    auto written = write_raw(*artifact.raw, download);
    if (!written) return written.error().context(label);
    return false;
  }
  if (artifact.http) {
    auto got = http_download(*artifact.http, download, settings_.retry, settings_.transfer,
                             call.step().deadline);
    if (got) return false;
    if (got.error().kind == ErrorKind::NotFound) {
      const std::string& url = artifact.http->url;
      return not_found(label + " not found at " + url.substr(0, url.find('?')));
    }
    return got.error().context(label);
  }
  const model::S3Location& location = *artifact.s3;
  auto located = call.locate(location, label);
  if (!located) return located.error();
  const auto& [repository, credentials] = *located;
  const std::string& key = location.key;
  if (key.empty()) return invalid(label + ": s3 key is empty");
  const S3Client client = client_for(repository, credentials);
  auto got = client.get_object(repository.bucket, key, download, call.step().deadline);
  if (got) return false;
  if (got.error().kind != ErrorKind::NotFound) return got.error().context(label);

  // argoexec stores un-archived directories as one object per file under "<key>/".
  std::string prefix = key;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  prefix += "/";
  auto objects = client.list_objects(repository.bucket, prefix, call.step().deadline);
  if (!objects) {
    if (objects.error().kind == ErrorKind::NotFound) {
      return not_found(label + " not found at " + s3_uri(repository.bucket, key));
    }
    return objects.error().context(label);
  }
  std::uint64_t total = 0;
  std::uint64_t count = 0;
  for (const auto& object : *objects) {
    if (object.key.size() <= prefix.size() || object.key.ends_with("/")) continue;
    total += object.size;
    if (++count > limits_.max_entries || total > limits_.max_bytes) {
      return limit_exceeded(label + ": the directory at " + s3_uri(repository.bucket, prefix) +
                            " exceeds max_extract_entries or max_extract_bytes");
    }
  }
  if (count == 0) return not_found(label + " not found at " + s3_uri(repository.bucket, key));
  std::error_code ec;
  fs::create_directory(directory, ec);
  if (ec) return failed(label + ": cannot create " + directory.string() + ": " + ec.message());
  for (const auto& object : *objects) {
    if (object.key.size() <= prefix.size() || object.key.ends_with("/")) continue;
    WWP_TRY(call.step().check_deadline("downloading " + label));
    auto target = confine(directory, object.key.substr(prefix.size()));
    if (!target) return failed(label + ": object " + object.key + ": " + target.error().message);
    auto parents = make_parents(directory, *target);
    if (!parents) return parents.error().context(label);
    auto fetched = client.get_object(repository.bucket, object.key, *target, call.step().deadline);
    if (!fetched) return fetched.error().context(label);
  }
  return true;
}

Result<Ok> RepositoryArtifactService::stage_one(Call& call, const model::Artifact& artifact,
                                                std::size_t index, const fs::path& staging) {
  const std::string label = "input artifact " + artifact.name;
  const fs::path& root = call.root();
  if (!artifact.unsupported_kind.empty()) {
    return failed(label + ": artifact type " + artifact.unsupported_kind + " is not supported");
  }
  WWP_TRY(check_name(label, artifact.name));
  // Destinations first, so a bad path fails before anything is downloaded. The earlier SDK reads
  // an artifact at /work/artifacts-in/<its path>; one without a path lives only there, by name.
  const std::string legacy_view =
      model::legacy_input_path(artifact.path.empty() ? artifact.name : artifact.path);
  const std::string primary_view = artifact.path.empty() ? legacy_view : artifact.path;
  auto primary = confine(root, primary_view);
  if (!primary) return primary.error().context(label);
  auto legacy = confine(root, legacy_view);
  if (!legacy) return legacy.error().context(label);
  if (*primary == root) return invalid(label + ": path " + primary_view + " is the sandbox itself");
  if (is_within(staging, *primary) || is_within(*primary, staging)) {
    return invalid(label + ": path " + primary_view + " collides with the staging directory");
  }

  if (!artifact.raw && !artifact.http && !artifact.s3) {
    if (artifact.optional) {
      spdlog::info("{}: optional and not supplied; skipped", label);
      return Ok{};
    }
    return not_found(label +
                     ": required artifact not supplied (it has no s3, http or raw location)");
  }

  const std::string stem = std::to_string(index);
  const fs::path download = staging / (stem + ".download");
  const fs::path directory = staging / (stem + ".dir");
  const auto fetch_started = std::chrono::steady_clock::now();
  auto fetched = fetch(call, artifact, download, directory);
  if (fetched) record_transfer("in", *fetched ? directory : download, fetch_started);
  if (!fetched) {
    if (fetched.error().kind == ErrorKind::NotFound && artifact.optional) {
      spdlog::info("{}: optional and not found; skipped ({})", label, fetched.error().message);
      return Ok{};
    }
    return fetched.error();
  }

  fs::path result = download;
  if (*fetched) {
    result = directory;  // objects under a prefix: already a tree, never an archive
  } else {
    std::optional<ArchiveFormat> format;
    switch (artifact.archive.kind) {
      case model::ArchiveStrategy::Kind::None:
        break;
      case model::ArchiveStrategy::Kind::Tar:
        format = ArchiveFormat::TarGz;
        break;
      case model::ArchiveStrategy::Kind::Zip:
        format = ArchiveFormat::Zip;
        break;
      case model::ArchiveStrategy::Kind::Default: {
        // argoexec only unpacks what looks like a gzipped tarball; anything else stays as is.
        auto tarball = is_tarball(download);
        if (!tarball) return tarball.error().context(label);
        if (*tarball) format = ArchiveFormat::TarGz;
        break;
      }
    }
    if (format) {
      const fs::path extracted = staging / (stem + ".extracted");
      const fs::path unpacked = staging / (stem + ".unpacked");
      std::error_code ec;
      fs::create_directory(extracted, ec);
      if (ec) return failed(label + ": cannot create " + extracted.string() + ": " + ec.message());
      ExtractLimits limits = limits_;
      limits.deadline = call.step().deadline;
      auto done = extract(download, extracted, *format, limits);
      if (!done) return done.error().context(label);
      fs::remove(download, ec);
      auto moved = move_unpacked(extracted, unpacked);
      if (!moved) return moved.error().context(label);
      result = unpacked;
    }
  }

  auto placed = [&]() -> Result<Ok> {
    WWP_TRY(make_parents(root, *primary));
    WWP_TRY(remove_existing(*primary));
    std::error_code ec;
    fs::rename(result, *primary, ec);
    if (ec) return failed("cannot move into place at " + primary_view + ": " + ec.message());
    if (artifact.mode) WWP_TRY(apply_mode(*primary, *artifact.mode, artifact.recurse_mode));
    // A second name for the same files (hard links; copies where linking fails), not a
    // symlink: an absolute link target means the host's root and a relative one breaks when the
    // module moves either end; hard links leave nothing for the host to follow later. Skipped
    // when one place contains the other (a path such as /work/artifacts-in itself).
    if (*legacy != *primary && !is_within(*primary, *legacy) && !is_within(*legacy, *primary)) {
      WWP_TRY(make_parents(root, *legacy));
      WWP_TRY(remove_existing(*legacy));
      WWP_TRY(link_or_copy_tree(*primary, *legacy));
    }
    return Ok{};
  }();
  if (!placed) return placed.error().context(label);
  return Ok{};
}

// ---- outputs ----

Result<std::vector<model::Artifact>> RepositoryArtifactService::collect_outputs(
    const model::Template& tmpl, const std::vector<model::Artifact>& reported,
    const fs::path& sandbox_root, const StepContext& step) {
  // Each artifact with the places it may be, in order: the first that exists is uploaded.
  std::vector<std::pair<model::Artifact, std::vector<std::string>>> plan;
  std::set<std::string> names;
  for (const auto& declared : tmpl.output_artifacts) {
    const std::string label = "output artifact " + declared.name;
    if (!declared.unsupported_kind.empty()) {
      return failed(label + ": artifact type " + declared.unsupported_kind + " is not supported");
    }
    WWP_TRY(check_name(label, declared.name));
    if (!names.insert(declared.name).second) return invalid(label + ": declared twice");
    std::vector<std::string> views;
    if (declared.path.empty()) {
      // The earlier ABI: the template names the artifact, the module says where it put it.
      auto it = std::find_if(reported.begin(), reported.end(),
                             [&](const model::Artifact& r) { return r.name == declared.name; });
      views = it != reported.end() ? reported_views(*it)
                                   : std::vector{model::legacy_output_path(declared.name)};
    } else {
      // Where the template says, or where the earlier SDK writes it.
      views = {declared.path, model::legacy_output_path(declared.path)};
    }
    plan.emplace_back(declared, std::move(views));
  }
  std::set<std::string> reported_names;
  for (const auto& artifact : reported) {
    const std::string label = "output artifact " + artifact.name;
    if (!reported_names.insert(artifact.name).second) return failed(label + ": reported twice");
    if (names.count(artifact.name) != 0) continue;  // the template's declaration decides
    if (!artifact.unsupported_kind.empty()) {
      return failed(label + ": artifact type " + artifact.unsupported_kind + " is not supported");
    }
    WWP_TRY(check_name(label, artifact.name));
    plan.emplace_back(artifact, reported_views(artifact));
  }
  std::vector<model::Artifact> outputs;
  if (plan.empty()) return outputs;

  Call call(*source_, sandbox_root, step);
  std::error_code ec;
  fs::path scratch_parent = settings_.scratch_dir.value_or(fs::temp_directory_path(ec));
  if (ec) return failed("no scratch directory for output archives: " + ec.message());
  auto scratch = TempDir::create(scratch_parent, "wwp-outputs-");
  if (!scratch) return scratch.error();
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const std::string doing = "saving output artifact " + plan[i].first.name;
    WWP_TRY(step.check_deadline(doing));
    auto uploaded = upload_one(call, plan[i].first, plan[i].second, scratch->path(), i);
    if (!uploaded) return step.at_deadline(uploaded.error(), doing);
    if (*uploaded) outputs.push_back(std::move(**uploaded));
  }
  return outputs;
}

Result<std::optional<model::Artifact>> RepositoryArtifactService::upload_one(
    Call& call, const model::Artifact& artifact, const std::vector<std::string>& views,
    const fs::path& scratch, std::size_t index) {
  const std::string label = "output artifact " + artifact.name;
  const fs::path& root = call.root();
  std::string view;
  fs::path host;
  struct stat st {};
  for (const auto& candidate : views) {
    auto confined = confine(root, candidate);
    if (!confined) {
      // Found after the module ran, so it fails the step rather than rejecting the request.
      Error error = confined.error().context(label);
      error.kind = ErrorKind::Failed;
      return error;
    }
    if (::lstat(confined->c_str(), &st) == 0) {
      view = candidate;
      host = *confined;
      break;
    }
  }
  if (view.empty()) {
    if (artifact.optional) {
      spdlog::info("{}: optional and not found at {}; skipped", label, views.front());
      return std::optional<model::Artifact>{};
    }
    std::string where = views.front();
    for (std::size_t i = 1; i < views.size(); ++i) where += " or " + views[i];
    return not_found(label + " not found at " + where);
  }
  fs::path source = host;
  if (S_ISLNK(st.st_mode)) {
    // confine() proved the link stays inside; argoexec follows a symlinked artifact path.
    std::error_code ec;
    source = fs::canonical(host, ec);
    if (ec || ::stat(source.c_str(), &st) != 0) {
      if (artifact.optional) return std::optional<model::Artifact>{};
      return not_found(label + " not found at " + view + " (dangling symlink)");
    }
  }
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    return failed(label + ": " + view + " is not a regular file or directory");
  }
  if (S_ISDIR(st.st_mode)) {
    // The module made this tree: bound it before anything walks it by path.
    TreeLimits bounds;
    bounds.max_depth = kMaxOutputDepth;
    bounds.max_path_bytes = kMaxOutputPathBytes;
    bounds.max_entries = limits_.max_entries;
    auto usage = measure_tree(source, bounds);
    if (!usage) return usage.error().context(label);
    switch (usage->exceeded) {
      case TreeUsage::Exceeded::Depth:
        return limit_exceeded(label + ": " + view + " is nested deeper than " +
                              std::to_string(kMaxOutputDepth) + " directories");
      case TreeUsage::Exceeded::PathLength:
        return limit_exceeded(label + ": " + view + " holds a path longer than " +
                              std::to_string(kMaxOutputPathBytes) + " bytes");
      case TreeUsage::Exceeded::Entries:
        return limit_exceeded(label + ": " + view + " holds more than " +
                              std::to_string(limits_.max_entries) +
                              " entries (max_extract_entries)");
      default:
        break;
    }
  }

  S3Repository repository;
  S3Credentials credentials;
  std::string key = artifact.s3 ? artifact.s3->key : "";
  if (artifact.s3 && !artifact.s3->bucket.empty() && !artifact.s3->endpoint.empty()) {
    auto located = call.locate(*artifact.s3, label);
    if (!located) return located.error();
    std::tie(repository, credentials) = *located;
  } else {
    auto resolved = call.default_repository();
    if (!resolved) return resolved.error().context(label);
    if (!*resolved) return failed(label + ": " + call.no_repository_message());
    repository = (*resolved)->s3;
    credentials = (*resolved)->credentials;
  }

  // argoexec's file names: <name>.tgz, <name>.zip, or the path's basename when not archived.
  fs::path upload = source;
  std::string file_name;
  const auto kind = artifact.archive.kind;
  if (kind == model::ArchiveStrategy::Kind::None) {
    file_name = base_name(view, artifact.name);
  } else {
    const bool zip = kind == model::ArchiveStrategy::Kind::Zip;
    file_name = artifact.name + (zip ? ".zip" : ".tgz");
    upload = scratch / (std::to_string(index) + "-" + file_name);
    auto packed = pack(source, upload, zip ? ArchiveFormat::Zip : ArchiveFormat::TarGz,
                       artifact.archive.compression_level.value_or(-1),
                       base_name(view, artifact.name), call.step().deadline);
    if (!packed) return packed.error().context(label);
  }
  if (key.empty()) {
    auto formatted = output_key(repository.key_format, repository.key_prefix,
                                key_variables(call.step()), file_name);
    if (!formatted) return formatted.error().context(label);
    key = *formatted;
  }

  const S3Client client = client_for(repository, credentials);
  const auto upload_started = std::chrono::steady_clock::now();
  std::error_code ec;
  if (fs::is_directory(upload, ec)) {
    // archive: none on a directory: one object per file under "<key>/", as argoexec's
    // PutDirectory does (symlinks are left out there too).
    for (fs::recursive_directory_iterator it(upload, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code type_error;
      if (!it->is_regular_file(type_error) || it->is_symlink(type_error)) continue;
      WWP_TRY(call.step().check_deadline("uploading " + label));
      const std::string relative = it->path().lexically_relative(upload).generic_string();
      auto put = client.put_object(repository.bucket, key + "/" + relative, it->path(),
                                   call.step().deadline);
      if (!put) return put.error().context(label);
    }
    if (ec) return failed(label + ": cannot read " + view + ": " + ec.message());
    record_transfer("out", upload, upload_started);
  } else {
    auto put = client.put_object(repository.bucket, key, upload, call.step().deadline);
    if (!put) return put.error().context(label);
    record_transfer("out", upload, upload_started);
    if (upload != source)
      fs::remove(upload, ec);  // scratch is removed anyway; this frees space early
  }

  model::Artifact result = artifact;
  model::S3Location location;
  location.endpoint = repository.endpoint;
  location.bucket = repository.bucket;
  location.region = repository.region;
  location.key = key;
  location.insecure = repository.insecure;
  location.access_key_secret = repository.access_key_secret;
  location.secret_key_secret = repository.secret_key_secret;
  result.s3 = location;
  result.path = artifact.path.empty() ? view : artifact.path;
  return std::optional<model::Artifact>(std::move(result));
}

}  // namespace wwp::artifacts
