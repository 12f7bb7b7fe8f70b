#include "gateway/http.h"

#include "absl/strings/match.h"

namespace pgxn::gateway {
namespace {

absl::string_view FindHeader(const std::vector<std::pair<std::string, std::string>>& headers,
                            absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

}  // namespace

absl::string_view Request::Header(absl::string_view name) const { return FindHeader(headers, name); }

void Response::SetHeader(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

absl::string_view Response::Header(absl::string_view name) const {
  return FindHeader(headers, name);
}

Response TextResponse(int status, std::string text) {
  Response response;
  response.status = status;
  response.SetHeader("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(text);
  return response;
}

Response JsonResponse(int status, std::string json) {
  Response response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json");
  response.body = std::move(json);
  return response;
}

}  // namespace pgxn::gateway
