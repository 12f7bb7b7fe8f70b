#include "base/ports_file.h"

#include "absl/strings/str_cat.h"
#include "base/files.h"

namespace pgxn::base {

absl::Status WritePortsFile(const std::string& data_dir, int http_port, int grpc_port) {
  return WriteFileAtomically(
      absl::StrCat(data_dir, "/ports.json"),
      absl::StrCat("{\"http\": ", http_port, ", \"grpc\": ", grpc_port, "}\n"), 0644);
}

}  // namespace pgxn::base
