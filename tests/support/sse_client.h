// Test support: a client of a node's GET /feed (Server-Sent Events) over a
// plain socket, as a browser's EventSource reads it: the response is
// de-chunked and split into messages (id, event, data) as it arrives. One
// client blocks on its socket; many (SseSwarm's, thousands) are read by one
// thread with poll(). Not thread-safe: one thread per client or swarm.
#ifndef PGXN_TESTS_SUPPORT_SSE_CLIENT_H_
#define PGXN_TESTS_SUPPORT_SSE_CLIENT_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace pgxn::testing {

struct SseMessage {
  std::string id;     // "" when the message had none
  std::string event;  // "message" when it named none
  std::string data;
};

class SseClient {
 public:
  // Connects to 127.0.0.1:port, sends GET `target` with `headers` ("Name:
  // value") and reads the response header. `receive_buffer` > 0 sets
  // SO_RCVBUF first (a client that reads slowly). Fails if the connection
  // or the header fails; any status is returned as a client (status()).
  static absl::StatusOr<std::unique_ptr<SseClient>> Open(
      int port, const std::string& target, const std::vector<std::string>& headers = {},
      int receive_buffer = 0);
  ~SseClient();

  int status() const { return status_; }
  const std::string& header() const { return header_; }
  int fd() const { return fd_; }

  // The next message, waiting up to `timeout` for it; nullopt when the
  // stream ended (the final chunk or the connection closed) or the time
  // passed (ended() tells which). Comments (heartbeats) are counted, not
  // returned.
  absl::optional<SseMessage> Next(absl::Duration timeout = absl::Seconds(120));
  bool ended() const { return ended_; }
  uint64_t comments() const { return comments_; }

  // For a swarm: reads what the socket has now, without blocking (the
  // socket is made non-blocking on the first call), and parses it. False
  // once the stream ended.
  bool ReadAvailable();
  // Messages parsed and not yet taken.
  std::deque<SseMessage>& messages() { return messages_; }

 private:
  explicit SseClient(int fd) : fd_(fd) {}
  // Parses `bytes` of the response after its header.
  void Parse(const std::string& bytes);
  void ParseBody(const std::string& bytes);
  void ParseLine(const std::string& line);

  int fd_;
  int status_ = 0;
  std::string header_;
  bool chunked_ = false;
  bool ended_ = false;
  bool nonblocking_ = false;
  // De-chunking: what is left of the current chunk, and unparsed framing.
  uint64_t chunk_left_ = 0;
  bool after_chunk_ = false;  // a chunk's data ended; its CRLF comes next
  std::string framing_;
  // SSE: the partial line and the message being built.
  std::string line_;
  SseMessage building_;
  bool has_data_ = false;
  uint64_t comments_ = 0;
  std::deque<SseMessage> messages_;
};

}  // namespace pgxn::testing

#endif  // PGXN_TESTS_SUPPORT_SSE_CLIENT_H_
