// Fuzzes the multipart/form-data parser (gateway/multipart.h) that reads
// every upload. Input: the Content-Type header, '\n', then the body. A part
// must have a name and its data must lie inside the body.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "gateway/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [content_type, body] = pgxn::fuzz::SplitFirstLine(pgxn::fuzz::AsText(data, size));
  constexpr size_t kMaxParts = 8;
  absl::StatusOr<std::vector<pgxn::gateway::FormPart>> parts =
      pgxn::gateway::ParseMultipartForm(content_type, body, kMaxParts);
  if (!parts.ok()) {
    FUZZ_CHECK(!parts.status().message().empty(), "a refusal names its problem");
    return 0;
  }
  FUZZ_CHECK(parts->size() <= kMaxParts, "at most max_parts parts");
  for (const pgxn::gateway::FormPart& part : *parts) {
    FUZZ_CHECK(!part.name.empty(), "a part has a name");
    FUZZ_CHECK(part.data.data() >= body.data() &&
                   part.data.data() + part.data.size() <= body.data() + body.size(),
               "a part's data is a view into the body");
    FUZZ_CHECK(pgxn::gateway::FindPart(*parts, part.name) != nullptr, "a part is found by name");
  }
  return 0;
}
