#include "oci/layer_extract.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <vector>

#include "common/unique_handle.hpp"

namespace wwp::oci {

namespace {

using ArchiveReader = UniqueHandle<archive, archive_read_free>;

std::string archive_error(archive* a) {
  const char* message = archive_error_string(a);
  return message ? message : "unknown archive error";
}

bool is_whiteout(std::string_view path) {
  const auto slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return name.starts_with(".wh.");
}

}  // namespace

Result<std::optional<ExtractedModule>> extract_wasm(const std::filesystem::path& layer_file,
                                                    LayerFormat format,
                                                    const store::BlobStore& store,
                                                    std::uint64_t max_bytes) {
  ArchiveReader reader(archive_read_new());
  if (!reader) return failed("cannot initialise libarchive");
  archive* a = reader.get();
  archive_read_support_format_tar(a);
  switch (format) {
    case LayerFormat::TarGzip:
      archive_read_support_filter_gzip(a);
      break;
    case LayerFormat::TarZstd:
      archive_read_support_filter_zstd(a);
      break;
    default:
      break;
  }
  // Registries sometimes label compressed layers as plain tar and vice versa; let libarchive sniff.
  archive_read_support_filter_all(a);
  if (archive_read_open_filename(a, layer_file.c_str(), 1 << 16) != ARCHIVE_OK) {
    return failed("cannot read layer as " + std::string(format_name(format)) + ": " +
                  archive_error(a));
  }

  std::optional<ExtractedModule> found;
  std::optional<store::BlobStore::Writer> writer;
  std::vector<std::string> names;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    archive_entry* entry = nullptr;
    const int status = archive_read_next_header(a, &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      return failed("corrupt " + std::string(format_name(format)) + " layer: " + archive_error(a));
    }
    const char* raw_path = archive_entry_pathname(entry);
    const std::string path = raw_path ? raw_path : "";
    if (archive_entry_filetype(entry) != AE_IFREG || !path.ends_with(".wasm") ||
        is_whiteout(path)) {
      continue;  // the next header call skips the data
    }
    names.push_back(path);
    if (names.size() > 1) continue;  // keep listing, to name them all in the error

    auto opened = store.writer();
    if (!opened) return opened.error();
    writer.emplace(std::move(*opened));
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
      if (n < 0) return failed("corrupt layer while reading " + path + ": " + archive_error(a));
      if (n == 0) break;
      if (writer->size() + static_cast<std::uint64_t>(n) > max_bytes) {
        return failed("module " + path + " in the layer is larger than the limit of " +
                      std::to_string(max_bytes) + " bytes");
      }
      WWP_TRY(writer->write(std::string_view(buffer.data(), static_cast<std::size_t>(n))));
    }
    found = ExtractedModule{{}, path, writer->size()};
  }
  if (names.size() > 1) {
    std::string list;
    for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
    return failed("layer holds several .wasm files (" + list + "); expected exactly one");
  }
  if (!found) return std::optional<ExtractedModule>();
  WWP_TRY_ASSIGN(found->digest, writer->commit());
  return found;
}

}  // namespace wwp::oci
