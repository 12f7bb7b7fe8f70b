#include "gateway/status_http.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace pgxn::gateway {
namespace {

TEST(HttpStatusForTest, MapsEveryCode) {
  const struct {
    absl::Status status;
    int http;
  } kCases[] = {
      {absl::InvalidArgumentError("x"), 400},
      {absl::OutOfRangeError("x"), 400},
      {absl::UnauthenticatedError("x"), 401},
      {absl::PermissionDeniedError("x"), 403},
      {absl::NotFoundError("x"), 404},
      {absl::AlreadyExistsError("x"), 409},
      {absl::FailedPreconditionError("x"), 409},
      {absl::ResourceExhaustedError("x"), 429},
      {absl::UnavailableError("x"), 503},
      {absl::InternalError("x"), 500},
      {absl::UnknownError("x"), 500},
      {absl::DataLossError("x"), 500},
      {absl::AbortedError("x"), 500},
      {absl::CancelledError("x"), 500},
      {absl::DeadlineExceededError("x"), 500},
      {absl::UnimplementedError("x"), 500},
      {absl::OkStatus(), 500},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(HttpStatusFor(c.status), c.http) << c.status;
  }
}

Request WithAccept(std::vector<std::string> accepts) {
  Request request;
  request.method = "POST";
  request.path = "/upload";
  for (std::string& accept : accepts) request.headers.emplace_back("accept", std::move(accept));
  return request;
}

TEST(AcceptsJsonTest, ReadsEveryAcceptHeader) {
  const struct {
    std::vector<std::string> accepts;
    bool json;
  } kCases[] = {
      {{}, false},
      {{"*/*"}, false},
      {{"text/html"}, false},
      {{"application/json"}, true},
      {{"Application/JSON"}, true},
      {{"text/html, application/json;q=0.9"}, true},
      {{"application/json; q=0"}, false},
      {{"application/json;q=0.000"}, false},
      {{"application/json;q=0.001"}, true},
      {{"application/jsonx"}, false},
      {{"text/html", "application/json"}, true},
      {{"application/json;charset=utf-8"}, true},
  };
  for (const auto& c : kCases) {
    std::string shown;
    for (const std::string& accept : c.accepts) shown += "[" + accept + "]";
    EXPECT_EQ(AcceptsJson(WithAccept(c.accepts)), c.json) << shown;
  }
}

TEST(ErrorResponseTest, PlainTextByDefault) {
  const Response response = ErrorResponse(
      absl::FailedPreconditionError("Distribution \"pair 0.1.0\" already exists"), WithAccept({}));
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(response.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response.body, "Distribution \"pair 0.1.0\" already exists");
}

TEST(ErrorResponseTest, JsonWhenAccepted) {
  const Response response = ErrorResponse(
      absl::InvalidArgumentError("Field /version: \"2.5\" is not a valid semantic version"),
      WithAccept({"application/json"}));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.Header("Content-Type"), "application/json");
  const nlohmann::json body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body, nlohmann::json(
                      {{"message", "Field /version: \"2.5\" is not a valid semantic version"}}))
      << response.body;
}

TEST(ErrorResponseTest, JsonSurvivesInvalidUtf8) {
  const Response response =
      ErrorResponse(absl::NotFoundError("bad \xFF byte"), WithAccept({"application/json"}));
  EXPECT_EQ(response.status, 404);
  const nlohmann::json body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["message"], "bad \xEF\xBF\xBD byte") << response.body;
}

}  // namespace
}  // namespace pgxn::gateway
