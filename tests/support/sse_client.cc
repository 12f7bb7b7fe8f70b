#include "tests/support/sse_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace pgxn::testing {

absl::StatusOr<std::unique_ptr<SseClient>> SseClient::Open(int port, const std::string& target,
                                                           const std::vector<std::string>& headers,
                                                           int receive_buffer) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  std::unique_ptr<SseClient> client(new SseClient(fd));
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect: ", strerror(errno)));
  }
  std::string request = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                                     "\r\nAccept: text/event-stream\r\n");
  for (const std::string& header : headers) absl::StrAppend(&request, header, "\r\n");
  absl::StrAppend(&request, "\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    return absl::UnavailableError(absl::StrCat("write: ", strerror(errno)));
  }
  std::string received;
  char buffer[4096];
  size_t end;
  while ((end = received.find("\r\n\r\n")) == std::string::npos) {
    pollfd waiting{fd, POLLIN, 0};
    if (poll(&waiting, 1, 120'000) != 1) return absl::DeadlineExceededError("no header");
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) return absl::UnavailableError("connection ended before the header");
    received.append(buffer, n);
  }
  client->header_ = received.substr(0, end + 4);
  if (client->header_.size() < 12 || !absl::SimpleAtoi(client->header_.substr(9, 3),
                                                      &client->status_)) {
    return absl::InternalError(absl::StrCat("bad status line: ", client->header_));
  }
  client->chunked_ = client->header_.find("Transfer-Encoding: chunked") != std::string::npos;
  client->Parse(received.substr(end + 4));
  return client;
}

SseClient::~SseClient() { close(fd_); }

absl::optional<SseMessage> SseClient::Next(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (messages_.empty() && !ended_) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) return absl::nullopt;
    pollfd waiting{fd_, POLLIN, 0};
    if (poll(&waiting, 1, static_cast<int>(left)) != 1) continue;
    char buffer[65536];
    const ssize_t n = read(fd_, buffer, sizeof(buffer));
    if (n <= 0) {
      ended_ = true;
      break;
    }
    Parse(std::string(buffer, n));
  }
  if (messages_.empty()) return absl::nullopt;
  SseMessage message = std::move(messages_.front());
  messages_.pop_front();
  return message;
}

bool SseClient::ReadAvailable() {
  if (!nonblocking_) {
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
    nonblocking_ = true;
  }
  char buffer[65536];
  while (!ended_) {
    const ssize_t n = read(fd_, buffer, sizeof(buffer));
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      ended_ = true;
      break;
    }
    Parse(std::string(buffer, n));
  }
  return !ended_;
}

void SseClient::Parse(const std::string& bytes) {
  if (!chunked_) {
    ParseBody(bytes);
    return;
  }
  framing_ += bytes;
  size_t at = 0;
  while (at < framing_.size() && !ended_) {
    if (chunk_left_ > 0) {
      const size_t take = std::min<size_t>(chunk_left_, framing_.size() - at);
      ParseBody(framing_.substr(at, take));
      at += take;
      chunk_left_ -= take;
      after_chunk_ = chunk_left_ == 0;  // its CRLF is next
      continue;
    }
    const size_t eol = framing_.find("\r\n", at);
    if (eol == std::string::npos) break;
    if (after_chunk_) {
      after_chunk_ = false;
      at = eol + 2;
      continue;
    }
    uint64_t size = 0;
    if (!absl::SimpleHexAtoi(framing_.substr(at, eol - at), &size)) {
      ended_ = true;  // not what a node sends
      break;
    }
    at = eol + 2;
    if (size == 0) {
      ended_ = true;
      break;
    }
    chunk_left_ = size;
  }
  framing_.erase(0, at);
}

void SseClient::ParseBody(const std::string& bytes) {
  for (char c : bytes) {
    if (c != '\n') {
      line_ += c;
      continue;
    }
    ParseLine(line_);
    line_.clear();
  }
}

void SseClient::ParseLine(const std::string& line) {
  if (line.empty()) {  // a message ends
    if (has_data_) {
      if (building_.event.empty()) building_.event = "message";
      messages_.push_back(std::move(building_));
    }
    building_ = SseMessage();
    has_data_ = false;
    return;
  }
  if (line[0] == ':') {
    ++comments_;
    return;
  }
  const size_t colon = line.find(':');
  const std::string field = line.substr(0, colon);
  std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.erase(0, 1);
  if (field == "id") {
    building_.id = value;
  } else if (field == "event") {
    building_.event = value;
  } else if (field == "data") {
    if (has_data_) building_.data += "\n";
    building_.data += value;
    has_data_ = true;
  }
}

}  // namespace pgxn::testing
