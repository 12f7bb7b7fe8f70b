#include "base/ports_file.h"

#include "absl/strings/str_cat.h"
#include "base/files.h"

namespace pgxn::base {

absl::Status WritePortsFile(const std::string& data_dir, int http_port, int grpc_port,
                            int site_port) {
  std::string json = absl::StrCat("{\"http\": ", http_port, ", \"grpc\": ", grpc_port);
  if (site_port != 0) absl::StrAppend(&json, ", \"site\": ", site_port);
  json += "}\n";
  return WriteFileAtomically(absl::StrCat(data_dir, "/ports.json"), json, 0644);
}

}  // namespace pgxn::base
