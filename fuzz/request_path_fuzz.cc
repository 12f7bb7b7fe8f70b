// Fuzzes the decoding of a request target (gateway/path.h), which the HTTP
// server runs on every request before any handler: the path percent-decoded
// once and checked, the query string parsed, the media type chosen for the
// path (gateway/media_type.h). Input: the raw target, "/path?query".
//
// Invariants: a path DecodeRequestPath accepts starts with '/', holds no NUL,
// backslash, "." or ".." segment and is valid UTF-8, and encoding it again
// (base::PercentEncodePath, as handlers build links) decodes to itself.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "base/utf8.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "gateway/media_type.h"
#include "gateway/path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view target = pgxn::fuzz::AsText(data, size);
  const size_t question = target.find('?');
  const absl::string_view raw_path = target.substr(0, question);
  const absl::string_view query =
      question == absl::string_view::npos ? absl::string_view() : target.substr(question + 1);

  absl::StatusOr<std::string> path = pgxn::gateway::DecodeRequestPath(raw_path);
  if (path.ok()) {
    FUZZ_CHECK(!path->empty() && (*path)[0] == '/', "the path starts with '/'");
    FUZZ_CHECK(path->find('\0') == std::string::npos, "no NUL");
    FUZZ_CHECK(path->find('\\') == std::string::npos, "no backslash");
    FUZZ_CHECK(pgxn::base::IsValidUtf8(*path), "valid UTF-8");
    for (absl::string_view segment : absl::StrSplit(absl::string_view(*path).substr(1), '/')) {
      FUZZ_CHECK(segment != "." && segment != "..", "no \".\" or \"..\" segment");
    }
    const std::string encoded = pgxn::gateway::PercentEncodePath(*path);
    absl::StatusOr<std::string> again = pgxn::gateway::DecodeRequestPath(encoded);
    FUZZ_CHECK(again.ok() && *again == *path, "an encoded path decodes to itself");

    const absl::string_view media_type = pgxn::gateway::MediaTypeForPath(*path);
    FUZZ_CHECK(!media_type.empty(), "every path has a media type");
  } else {
    FUZZ_CHECK(path.status().code() == absl::StatusCode::kInvalidArgument,
               "a bad path is InvalidArgument");
  }

  absl::StatusOr<pgxn::gateway::QueryParams> params = pgxn::gateway::ParseQuery(query);
  if (params.ok()) {
    for (const auto& [key, value] : *params) {
      FUZZ_CHECK(pgxn::gateway::FindParam(*params, key) != nullptr, "a parameter is found");
    }
  }
  return 0;
}
