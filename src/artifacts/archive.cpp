#include "artifacts/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "artifacts/confine.hpp"
#include "artifacts/file_util.hpp"

namespace wwp::artifacts {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kBlock = 64 * 1024;

Result<Ok> check_deadline(const Deadline& deadline) {
  if (std::chrono::steady_clock::now() >= deadline) return failed("the step's deadline passed");
  return Ok{};
}

struct ReadArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ReadArchive = std::unique_ptr<archive, ReadArchiveDeleter>;
using WriteArchive = std::unique_ptr<archive, WriteArchiveDeleter>;
using Entry = std::unique_ptr<archive_entry, EntryDeleter>;

std::string archive_message(archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? text : "unknown libarchive error";
}

// ---- packing ----

Result<Ok> write_regular(archive* a, const fs::path& file, std::uint64_t size,
                         const Deadline& deadline) {
  auto fd = open_file(file, O_RDONLY | O_NOFOLLOW);
  if (!fd) return fd.error();
  std::vector<char> buffer(kBlock);
  std::uint64_t done = 0;
  while (done < size) {
    WWP_TRY(check_deadline(deadline));
    ssize_t n = ::read(fd->get(), buffer.data(), std::min<std::uint64_t>(kBlock, size - done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed("cannot read " + file.string() + ": " + errno_text(errno));
    }
    if (n == 0) return failed(file.string() + " shrank while it was being archived");
    la_ssize_t written = archive_write_data(a, buffer.data(), static_cast<std::size_t>(n));
    if (written < 0) return failed("cannot write the archive: " + archive_message(a));
    done += static_cast<std::uint64_t>(n);
  }
  return Ok{};
}

Result<Ok> pack_entry(archive* a, const fs::path& host, const std::string& name,
                      const Deadline& deadline) {
  WWP_TRY(check_deadline(deadline));
  struct stat st {};
  if (::lstat(host.c_str(), &st) != 0) {
    return failed("cannot stat " + host.string() + ": " + errno_text(errno));
  }
  // argoexec writes what tar.FileInfoHeader understands; sockets, fifos and devices have no
  // meaning in an artifact and a fifo would block the read, so they are left out.
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) return Ok{};

  Entry entry(archive_entry_new());
  archive_entry_copy_stat(entry.get(), &st);
  archive_entry_copy_pathname(entry.get(), name.c_str());
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    fs::path target = fs::read_symlink(host, ec);
    if (ec) return failed("cannot read symlink " + host.string() + ": " + ec.message());
    archive_entry_copy_symlink(entry.get(), target.c_str());
    archive_entry_set_size(entry.get(), 0);
  } else if (S_ISDIR(st.st_mode)) {
    archive_entry_set_size(entry.get(), 0);
  }
  if (archive_write_header(a, entry.get()) < ARCHIVE_WARN) {
    return failed("cannot add " + name + " to the archive: " + archive_message(a));
  }
  if (S_ISREG(st.st_mode))
    WWP_TRY(write_regular(a, host, static_cast<std::uint64_t>(st.st_size), deadline));

  if (S_ISDIR(st.st_mode)) {
    // Sorted like Go's filepath.Walk, so the same tree always gives the same archive.
    std::vector<std::string> children;
    std::error_code ec;
    for (fs::directory_iterator it(host, ec), end; !ec && it != end; it.increment(ec)) {
      children.push_back(it->path().filename().string());
    }
    if (ec) return failed("cannot read directory " + host.string() + ": " + ec.message());
    std::sort(children.begin(), children.end());
    for (const auto& child : children)
      WWP_TRY(pack_entry(a, host / child, name + "/" + child, deadline));
  }
  return Ok{};
}

// ---- unpacking ----

// The entry's path relative to the destination, or an error for names that would leave it.
Result<fs::path> entry_relative_path(std::string_view name, std::uint64_t max_depth) {
  std::uint64_t depth = 0;
  if (name.starts_with("/"))
    return failed("archive entry " + std::string(name) + " has an absolute path");
  fs::path relative;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view component = name.substr(start, end - start);
    if (component == "..") {
      return failed("archive entry " + std::string(name) + " escapes the destination ('..')");
    }
    if (!component.empty() && component != ".") {
      if (++depth > max_depth) {
        return limit_exceeded("archive entry " + std::string(name.substr(0, 200)) +
                              "... is nested deeper than " + std::to_string(max_depth) +
                              " directories");
      }
      relative /= std::string(component);
    }
    start = end + 1;
  }
  return relative;
}

class Extractor {
 public:
  Extractor(archive* a, fs::path destination, const ExtractLimits& limits)
      : a_(a), destination_(std::move(destination)), limits_(limits) {}

  Result<Ok> run() {
    std::error_code ec;
    real_destination_ = fs::canonical(destination_, ec);
    if (ec) return failed("cannot resolve " + destination_.string() + ": " + ec.message());
    auto extracted = extract_entries();
    auto confined = remove_escaping_symlinks();
    if (!extracted) return extracted;
    return confined;
  }

 private:
  Result<Ok> extract_entries() {
    for (;;) {
      archive_entry* entry = nullptr;
      int status = archive_read_next_header(a_, &entry);
      if (status == ARCHIVE_EOF) return Ok{};
      if (status < ARCHIVE_WARN) return failed("cannot read the archive: " + archive_message(a_));
      WWP_TRY(check_deadline(limits_.deadline));
      if (++entries_ > limits_.max_entries) {
        return limit_exceeded("archive has more than " + std::to_string(limits_.max_entries) +
                              " entries (max_extract_entries)");
      }
      WWP_TRY(extract_entry(entry));
    }
  }

  // Each symlink was checked when it was made, but a later entry can change what it resolves
  // through ("a -> x/.." is inside until "x -> ." arrives). So once the tree is complete, every
  // symlink is resolved again and those that now lead out are removed.
  Result<Ok> remove_escaping_symlinks() {
    std::string first_escape;
    for (const auto& [name, link] : symlinks_) {
      struct stat st {};
      if (::lstat(link.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;  // replaced since
      std::error_code ec;
      const fs::path real = fs::weakly_canonical(link, ec);
      if (ec || is_within(real_destination_, real.lexically_normal())) continue;  // ec: a loop
      ::unlink(link.c_str());
      if (first_escape.empty()) first_escape = name;
    }
    if (first_escape.empty()) return Ok{};
    return failed("archive entry " + first_escape +
                  " is a symlink that later entries make point outside the destination");
  }

  Result<Ok> prepare_parent(const fs::path& target) {
    const fs::path parent = target.parent_path();
    WWP_TRY(check_inside(destination_, parent));
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) return failed("cannot create " + parent.string() + ": " + ec.message());
    // Re-resolve after creating: the real location must still be below the destination.
    fs::path real_parent = fs::canonical(parent, ec);
    if (ec || !is_within(real_destination_, real_parent)) {
      return failed("archive entry " + target.lexically_relative(destination_).string() +
                    " would be written outside the destination");
    }
    return Ok{};
  }

  // A later entry replaces an earlier one of the same name, as with tar; never follow a symlink
  // that is in the way.
  Result<Ok> clear_target(const fs::path& target, bool keep_directory) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0) return Ok{};
    if (S_ISDIR(st.st_mode)) {
      if (keep_directory) return Ok{};
      return failed("archive entry " + target.lexically_relative(destination_).string() +
                    " replaces a directory");
    }
    if (::unlink(target.c_str()) != 0)
      return failed("cannot replace " + target.string() + ": " + errno_text(errno));
    return Ok{};
  }

  Result<Ok> extract_entry(archive_entry* entry) {
    const char* raw_name = archive_entry_pathname(entry);
    if (raw_name == nullptr) return failed("archive entry without a usable name");
    const std::string name = raw_name;
    auto relative = entry_relative_path(name, limits_.max_depth);
    if (!relative) return relative.error();
    if (relative->empty()) return Ok{};  // "./": the destination itself
    const fs::path target = destination_ / *relative;
    WWP_TRY(prepare_parent(target));

    if (const char* hardlink = archive_entry_hardlink(entry); hardlink != nullptr) {
      return extract_hardlink(name, target, hardlink);
    }
    switch (archive_entry_filetype(entry)) {
      case AE_IFDIR: {
        WWP_TRY(clear_target(target, true));
        if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) {
          return failed("cannot create " + target.string() + ": " + errno_text(errno));
        }
        return Ok{};
      }
      case AE_IFREG:
        return extract_file(entry, target);
      case AE_IFLNK:
        return extract_symlink(name, target, archive_entry_symlink(entry));
      default:
        // Devices, fifos and sockets: argoexec's untar ignores them too.
        return Ok{};
    }
  }

  Result<Ok> extract_file(archive_entry* entry, const fs::path& target) {
    WWP_TRY(clear_target(target, false));
    const unsigned mode = static_cast<unsigned>(archive_entry_perm(entry)) & 0777;
    auto fd = open_file(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode == 0 ? 0644 : mode);
    if (!fd) return fd.error();
    std::uint64_t end = 0;
    for (;;) {
      const void* block = nullptr;
      std::size_t size = 0;
      la_int64_t offset = 0;
      int status = archive_read_data_block(a_, &block, &size, &offset);
      if (status == ARCHIVE_EOF) break;
      if (status < ARCHIVE_WARN) return failed("cannot read the archive: " + archive_message(a_));
      WWP_TRY(check_deadline(limits_.deadline));
      const std::uint64_t block_end = static_cast<std::uint64_t>(offset) + size;
      WWP_TRY(account(end, block_end));
      end = std::max(end, block_end);
      const char* data = static_cast<const char*>(block);
      std::size_t written = 0;
      while (written < size) {
        ssize_t n = ::pwrite(fd->get(), data + written, size - written,
                             static_cast<off_t>(static_cast<std::uint64_t>(offset) + written));
        if (n < 0) {
          if (errno == EINTR) continue;
          return failed("cannot write " + target.string() + ": " + errno_text(errno));
        }
        written += static_cast<std::size_t>(n);
      }
    }
    // Sparse entries may end in a hole that no data block covers.
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
      const auto declared = static_cast<std::uint64_t>(archive_entry_size(entry));
      if (declared > end) {
        WWP_TRY(account(end, declared));
        end = declared;
      }
    }
    if (::ftruncate(fd->get(), static_cast<off_t>(end)) != 0) {
      return failed("cannot size " + target.string() + ": " + errno_text(errno));
    }
    if (archive_entry_mtime_is_set(entry)) {
      struct timespec times[2];
      times[0].tv_sec = archive_entry_mtime(entry);
      times[0].tv_nsec = archive_entry_mtime_nsec(entry);
      times[1] = times[0];
      (void)::futimens(fd->get(), times);  // cosmetic; not worth failing the step over
    }
    return fd->close();
  }

  Result<Ok> account(std::uint64_t previous_end, std::uint64_t new_end) {
    if (new_end <= previous_end) return Ok{};
    total_ += new_end - previous_end;
    if (total_ > limits_.max_bytes) {
      return limit_exceeded("archive expands to more than " + std::to_string(limits_.max_bytes) +
                            " bytes (max_extract_bytes)");
    }
    return Ok{};
  }

  Result<Ok> extract_symlink(const std::string& name, const fs::path& target, const char* link) {
    if (link == nullptr) return failed("archive entry " + name + " is a symlink without a target");
    const fs::path link_text = link;
    auto refuse = [&] {
      return failed("archive entry " + name + " is a symlink to " + link_text.string() +
                    ", which points outside the destination");
    };
    if (link_text.is_absolute()) return refuse();
    const fs::path lexical = (target.parent_path() / link_text).lexically_normal();
    if (!is_within(destination_.lexically_normal(), lexical)) return refuse();
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(target.parent_path() / link_text, ec);
    if (ec || !is_within(real_destination_, real.lexically_normal())) return refuse();
    WWP_TRY(clear_target(target, false));
    if (::symlink(link, target.c_str()) != 0) {
      return failed("cannot create symlink " + target.string() + ": " + errno_text(errno));
    }
    symlinks_.emplace_back(name, target);
    return Ok{};
  }

  Result<Ok> extract_hardlink(const std::string& name, const fs::path& target, const char* link) {
    auto relative = entry_relative_path(link, limits_.max_depth);
    if (!relative) {
      return failed("archive entry " + name + " is a hard link to " + link +
                    ", which points outside the destination");
    }
    const fs::path source = destination_ / *relative;
    WWP_TRY(check_inside(destination_, source));
    struct stat st {};
    if (::lstat(source.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return failed("archive entry " + name + " is a hard link to " + link +
                    ", which is not a file extracted before it");
    }
    WWP_TRY(clear_target(target, false));
    if (::link(source.c_str(), target.c_str()) != 0) {
      return failed("cannot create hard link " + target.string() + ": " + errno_text(errno));
    }
    return Ok{};
  }

  archive* a_;
  fs::path destination_;
  fs::path real_destination_;
  ExtractLimits limits_;
  std::uint64_t entries_ = 0;
  std::uint64_t total_ = 0;
  std::vector<std::pair<std::string, fs::path>> symlinks_;  // entry name, where it was made
};

}  // namespace

Result<Ok> pack(const fs::path& source, const fs::path& archive_file, ArchiveFormat format,
                int compression_level, std::string_view top_name, Deadline deadline) {
  WriteArchive a(archive_write_new());
  if (!a) return failed("cannot create an archive writer");
  if (format == ArchiveFormat::TarGz) {
    archive_write_add_filter_gzip(a.get());
    if (compression_level >= 0 && compression_level <= 9) {
      std::string level = std::to_string(compression_level);
      if (archive_write_set_filter_option(a.get(), "gzip", "compression-level", level.c_str()) <
          ARCHIVE_WARN) {
        return failed("cannot set gzip compression level " + level + ": " +
                      archive_message(a.get()));
      }
    }
    // ustar where it fits, pax headers for long names and big files, like Go's archive/tar.
    archive_write_set_format_pax_restricted(a.get());
  } else {
    archive_write_set_format_zip(a.get());
  }
  if (archive_write_open_filename(a.get(), archive_file.c_str()) != ARCHIVE_OK) {
    return failed("cannot create " + archive_file.string() + ": " + archive_message(a.get()));
  }
  std::string top = top_name.empty() ? source.filename().string() : std::string(top_name);
  if (top.empty() || top == "." || top == "/") top = "artifact";
  WWP_TRY(pack_entry(a.get(), source, top, deadline));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return failed("cannot finish " + archive_file.string() + ": " + archive_message(a.get()));
  }
  return Ok{};
}

Result<bool> is_tarball(const fs::path& file) {
  ReadArchive a(archive_read_new());
  if (!a) return failed("cannot create an archive reader");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), kBlock) != ARCHIVE_OK) return false;
  archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) return false;
  // Only gzip-compressed tar counts, as in argoexec; a plain tar is stored as is.
  return archive_filter_code(a.get(), 0) == ARCHIVE_FILTER_GZIP;
}

Result<Ok> extract(const fs::path& archive_file, const fs::path& destination, ArchiveFormat format,
                   const ExtractLimits& limits) {
  ReadArchive a(archive_read_new());
  if (!a) return failed("cannot create an archive reader");
  if (format == ArchiveFormat::TarGz) {
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
  } else {
    archive_read_support_format_zip(a.get());
  }
  if (archive_read_open_filename(a.get(), archive_file.c_str(), kBlock) != ARCHIVE_OK) {
    return failed("cannot open the archive: " + archive_message(a.get()));
  }
  Extractor extractor(a.get(), destination, limits);
  return extractor.run();
}

Result<Ok> move_unpacked(const fs::path& extracted_dir, const fs::path& destination) {
  std::vector<fs::path> entries;
  std::error_code ec;
  for (fs::directory_iterator it(extracted_dir, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path());
    if (entries.size() > 1) break;
  }
  if (ec) return failed("cannot read " + extracted_dir.string() + ": " + ec.message());
  if (entries.size() == 1) {
    fs::rename(entries.front(), destination, ec);
    if (ec) return failed("cannot move to " + destination.string() + ": " + ec.message());
    fs::remove(extracted_dir, ec);
    return Ok{};
  }
  fs::rename(extracted_dir, destination, ec);
  if (ec) return failed("cannot move to " + destination.string() + ": " + ec.message());
  return Ok{};
}

}  // namespace wwp::artifacts
