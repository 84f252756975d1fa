// S3's XML answers (ListObjectsV2 pages, error documents, CreateMultipartUpload) as the client
// reads them: values of flat elements, entities decoded.
#include "artifacts/s3_client.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml = wwp::fuzz::as_text(data, size);
  auto page = wwp::artifacts::parse_list_page(xml);
  for (const auto& object : page.objects) {
    WWP_FUZZ_CHECK(object.key.size() <= xml.size(), "a key longer than the document");
  }
  for (const char* tag : {"Code", "Message", "UploadId"}) {
    for (const auto& value : wwp::artifacts::xml_values(xml, tag)) {
      WWP_FUZZ_CHECK(value.size() <= xml.size(), "a value longer than the document");
    }
  }
  return 0;
}
