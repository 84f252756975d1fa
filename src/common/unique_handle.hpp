// One RAII owner for C library handles (libcurl, libarchive, OpenSSL, FILE*): a unique_ptr whose
// deleter calls the library's free function, and does nothing for a null handle.
#pragma once

#include <memory>

namespace wwp {

template <auto Free>
struct CallFree {
  template <class T>
  void operator()(T* handle) const {
    if (handle != nullptr) Free(handle);
  }
};

// UniqueHandle<CURL, curl_easy_cleanup> curl(curl_easy_init());
template <class T, auto Free>
using UniqueHandle = std::unique_ptr<T, CallFree<Free>>;

}  // namespace wwp
