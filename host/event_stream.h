// GET /feed on every node: the node's event log as Server-Sent Events
// (text/event-stream, the HTML Living Standard's "server-sent events"), for
// programs that are not nodes: a browser's EventSource, `curl -N`, scripts.
//
// Each event is one message:
//   id: SEQ
//   event: KIND                     (release, user, delete, mirrors, meta, stats)
//   data: {...}                     (feed/event_json.h: one line of JSON)
// A client resumes after the seq in `Last-Event-ID` (what EventSource sends
// when it reconnects) or `?since=SEQ` (the header wins): it gets every event
// after it from the node's log, then live ones, each once and in order.
// Without either it starts at the head (new events only). Filters
// `?kind=&dist=&user=&tag=` are feed/event_filter.h's, repeatable. A
// comment line (":") goes out when the stream has been quiet for
// `heartbeat`, so proxies and clients see a live connection.
// `Access-Control-Allow-Origin: *`, so any web page may subscribe.
//
// Costs: a client is a connection and a cursor, no thread and no queue: the
// HTTP server asks it for more when the previous piece is taken
// (gateway::BodyStream), and it reads from the log then. A client that has
// caught up once and then falls more than `max_lag` events behind the head
// (it stopped reading, or reads slower than events come) is sent a last
// message, `event: resume` with `{"after": SEQ}` (the last seq it was sent,
// which is also its Last-Event-ID), and closed; EventSource reconnects with
// that id by itself. The rendered objects of the newest `cache_events`
// events are kept, so that a thousand clients woken by one event read and
// render it once.
//
// Answers: 400 for a malformed seq, an unknown parameter or a bad filter
// value; 410 when the seq to resume after is older than the node's log
// (a mirror bootstrapped from a snapshot holds the events after it only);
// 503 with Retry-After past max_clients or max_clients_per_address; the
// message names the problem.
//
// Thread-safety: Serve from any thread (HTTP I/O threads); Start and Stop
// from the thread that owns it. The log must outlive Stop.
#ifndef PGXN_HOST_EVENT_STREAM_H_
#define PGXN_HOST_EVENT_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "feed/event_log.h"
#include "gateway/http.h"

namespace pgxn::host {

struct EventStreamOptions {
  absl::Duration heartbeat = absl::Seconds(15);
  uint64_t max_lag = 1000;
  size_t cache_events = 1024;
  // Streams open at once, in all and from one client address: a stream is
  // never idle, so the HTTP server's eviction of idle connections never
  // frees one; past either cap a new stream gets 503 with Retry-After.
  size_t max_clients = 20000;
  size_t max_clients_per_address = 64;
};

class EventStream {
 public:
  // The URLs in the events are `public_url` + path when it is set;
  // otherwise the listener's scheme (`tls`: HTTPS) and the request's Host
  // header, or `authority` (HOST:PORT it listens on) when a request has no
  // usable one.
  EventStream(const feed::EventLog* log, EventStreamOptions options, bool tls,
              std::string authority, std::string public_url = "");
  ~EventStream();  // Stop()
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Starts the thread that follows the log's head, wakes clients for new
  // events and sends heartbeats.
  void Start();
  // Ends every stream (their next piece is their end) and joins the thread.
  // Idempotent.
  void Stop();

  // GET or HEAD /feed.
  gateway::Response Serve(const gateway::Request& request) const;
  // OPTIONS /feed: the CORS preflight a browser may send before a
  // cross-origin reconnection that carries Last-Event-ID.
  static gateway::Response Preflight();

  size_t clients() const;   // streams open now
  uint64_t cutoffs() const;  // clients closed for falling behind, since start

 private:
  class Core;
  class Client;
  std::shared_ptr<Core> core_;
  std::string scheme_;     // of the URLs in the events
  std::string authority_;  // when a request's Host header will not do
  std::string public_url_;  // without a trailing slash; empty: from the request
  std::thread thread_;
};

}  // namespace pgxn::host

#endif  // PGXN_HOST_EVENT_STREAM_H_
