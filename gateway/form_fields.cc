#include "gateway/form_fields.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/multipart.h"

namespace pgxn::gateway {
namespace {

// Nesting a form has no use for; deeper documents are refused unparsed.
constexpr int kMaxJsonDepth = 8;

absl::StatusOr<QueryParams> ParseJsonFields(absl::string_view body) {
  bool too_deep = false;
  nlohmann::json::parser_callback_t limit_depth =
      [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > kMaxJsonDepth) too_deep = true;
        return !too_deep;
      };
  nlohmann::json doc = nlohmann::json::parse(body.begin(), body.end(), limit_depth,
                                             /*allow_exceptions=*/false);
  if (too_deep) return absl::InvalidArgumentError("Bad request: JSON body nested too deeply");
  if (doc.is_discarded()) return absl::InvalidArgumentError("Bad request: body is not valid JSON");
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("Bad request: JSON body must be an object");
  }
  QueryParams fields;
  for (const auto& [key, value] : doc.items()) {
    if (value.is_string()) {
      fields.emplace_back(key, value.get<std::string>());
    } else if (value.is_number() || value.is_boolean()) {
      fields.emplace_back(key, value.dump());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("Bad request: field \"", key, "\" must be a string"));
    }
  }
  return fields;
}

}  // namespace

absl::StatusOr<QueryParams> ParseFormFields(const Request& request) {
  if (request.body.empty()) return QueryParams();
  const absl::string_view content_type = request.Header("content-type");
  const std::string media_type = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))));
  if (media_type == "application/json") return ParseJsonFields(request.body.view());
  if (media_type == "multipart/form-data") {
    absl::StatusOr<std::vector<FormPart>> parts = ParseMultipartForm(content_type, request.body.view());
    if (!parts.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("Bad request: ", parts.status().message()));
    }
    QueryParams fields;
    for (const FormPart& part : *parts) {
      if (part.filename.empty()) fields.emplace_back(part.name, std::string(part.data));
    }
    return fields;
  }
  if (media_type.empty() || media_type == "application/x-www-form-urlencoded") {
    absl::StatusOr<QueryParams> fields = ParseFormUrlEncoded(request.body.view());
    if (!fields.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("Bad request: ", fields.status().message()));
    }
    return fields;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("Bad request: unsupported Content-Type \"", content_type, "\""));
}

std::string FieldOr(const QueryParams& fields, absl::string_view key) {
  const std::string* value = FindParam(fields, key);
  return value == nullptr ? std::string() : *value;
}

}  // namespace pgxn::gateway
