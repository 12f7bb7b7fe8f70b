// Fuzzes the reading of a request's fields (gateway/form_fields.h), which
// every account and admin endpoint of the Manager runs on its body: as JSON,
// multipart/form-data or application/x-www-form-urlencoded (gateway/path.h's
// ParseFormUrlEncoded), as the Content-Type says. Input: the Content-Type
// header, '\n', then the body. The body is also parsed as a query string.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "gateway/form_fields.h"
#include "gateway/http.h"
#include "gateway/path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [content_type, body] = pgxn::fuzz::SplitFirstLine(pgxn::fuzz::AsText(data, size));
  pgxn::gateway::Request request;
  request.method = "POST";
  request.target = request.path = "/account/register";
  request.headers.emplace_back("content-type", std::string(content_type));
  request.body = std::string(body);
  absl::StatusOr<pgxn::gateway::QueryParams> fields = pgxn::gateway::ParseFormFields(request);
  if (fields.ok()) {
    for (const auto& [key, value] : *fields) {
      FUZZ_CHECK(pgxn::gateway::FindParam(*fields, key) != nullptr, "a field is found by name");
      (void)pgxn::gateway::FieldOr(*fields, key);
    }
  } else {
    FUZZ_CHECK(fields.status().code() == absl::StatusCode::kInvalidArgument,
               "a bad body is InvalidArgument");
  }

  absl::StatusOr<pgxn::gateway::QueryParams> query = pgxn::gateway::ParseQuery(body);
  if (query.ok()) {
    const size_t pieces = static_cast<size_t>(std::count(body.begin(), body.end(), '&')) + 1;
    FUZZ_CHECK(query->size() <= pieces, "one parameter at most per '&'-separated piece");
  }
  return 0;
}
