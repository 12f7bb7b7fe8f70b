// pgxnd tail: prints the release feed as JSON lines (or text), for scripts
// and people, all of it or the events a filter asks for (feed/event_filter.h).
// It follows the feed with the same client as a mirror (feed/feed_client.h),
// into a sink that prints instead of storing. Events are checked as they
// arrive (each hash and signature, and the chain from the first event
// printed on), so a corrupted relay cannot feed a script bad data.
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/digest.h"
#include "base/files.h"
#include "feed/event_chain.h"
#include "feed/event_filter.h"
#include "feed/feed_client.h"
#include "feed/signing.h"
#include "feed/upstream_target.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"

namespace pgxn::cli {
namespace {

namespace v1 = ::pgxn::feed::v1;

std::string EventLine(const v1::Event& event) {
  nlohmann::ordered_json paths = nlohmann::ordered_json::array();
  for (const v1::Op& op : event.ops()) paths.push_back(op.path());
  nlohmann::ordered_json line{
      {"seq", event.seq()},
      {"kind", event.kind()},
      {"dist", event.subject().dist()},
      {"version", event.subject().version()},
      {"user", event.actor()},
      {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(event.time_us()),
                                absl::UTCTimeZone())},
      {"paths", std::move(paths)},
      {"tags", feed::EventTags(event)},
  };
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// One line of text for people: "SEQ KIND DIST VERSION by USER at TIME", or
// for an event without a release "SEQ KIND (N files) at TIME".
std::string EventText(const v1::Event& event) {
  const std::string time = absl::FormatTime(
      "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(event.time_us()), absl::UTCTimeZone());
  std::string line = absl::StrCat(event.seq(), " ", event.kind());
  if (!event.subject().dist().empty()) {
    absl::StrAppend(&line, " ", event.subject().dist(), " ", event.subject().version());
    if (!event.actor().empty()) absl::StrAppend(&line, " by ", event.actor());
  } else {
    absl::StrAppend(&line, " (", event.ops_size(), event.ops_size() == 1 ? " file)" : " files)");
  }
  absl::StrAppend(&line, " at ", time);
  // What a terminal would take as control sequences is not printed as such.
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return line;
}

// Where the feed client delivers: each event is checked (its hash and the
// origin's signature on the client's reading thread, its link to the one
// printed before on the applying thread) and printed as one line. The first
// event printed has no predecessor to link to; every later one must.
class PrintingSink final : public feed::EventSink {
 public:
  PrintingSink(uint64_t since, std::string origin_key, absl::optional<uint64_t> stop_at,
               bool flush_each, feed::EventFilter filter, bool text)
      : origin_key_(std::move(origin_key)),
        stop_at_(stop_at),
        flush_each_(flush_each),
        filter_(std::move(filter)),
        text_(text) {
    tip_.seq = since;
  }

  feed::ChainTip Tip() const override {
    absl::MutexLock lock(&mu_);
    return tip_;
  }
  feed::EventCheck Check(const v1::Event& event) const override {
    feed::EventCheck check;
    check.key = OriginKey();
    check.status = feed::VerifyEventAlone(event, /*require_content=*/false, check.key);
    return check;
  }
  absl::Status Apply(const v1::Event& event, const feed::EventCheck& check) override {
    absl::Status status = check.status;
    absl::MutexLock lock(&mu_);
    // Without --follow, nothing past the head seen at start is printed (the
    // client may have read ahead before Wait returns and stops it).
    if (Reached()) return absl::OkStatus();
    if (status.ok() && printed_) status = feed::VerifyEventLink(event, tip_);
    if (!status.ok()) {
      failure_ = status;
      return status;
    }
    // Every event is checked and extends the chain; only those the filter
    // asks for are printed.
    if (feed::EventMatches(filter_, event)) {
      std::cout << (text_ ? EventText(event) : EventLine(event)) << "\n";
      if (flush_each_) std::cout.flush();
    }
    tip_ = feed::TipAfter(event);
    printed_ = true;
    return absl::OkStatus();
  }
  std::string OriginKey() const override {
    absl::MutexLock lock(&mu_);
    return origin_key_;
  }
  absl::Status PinOriginKey(absl::string_view public_key) override {
    absl::MutexLock lock(&mu_);
    origin_key_ = std::string(public_key);
    return absl::OkStatus();
  }
  absl::Status RecordHeartbeat(const v1::Heartbeat& heartbeat) override {
    return feed::VerifyHeartbeat(OriginKey(), heartbeat);
  }
  absl::Status Bootstrap(const v1::Event&,
                         const std::function<absl::StatusOr<v1::Op>()>&) override {
    return absl::UnimplementedError("pgxnd tail does not take snapshots");
  }
  absl::Status Reset() override {
    return absl::UnimplementedError("pgxnd tail does not follow a new epoch");
  }

  // Notes why the feed ended; false when tail should stop trying.
  bool Retry(const absl::Status& ended, bool follow) {
    absl::MutexLock lock(&mu_);
    if (Reached() || !failure_.ok()) return false;  // done, or a refused event
    if (follow && !absl::IsFailedPrecondition(ended)) return true;
    failure_ = ended.ok() ? absl::UnavailableError("stream ended") : ended;
    return false;
  }
  // Waits until the head seen at start was printed (OK) or the feed failed.
  absl::Status Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &PrintingSink::Finished));
    return Reached() ? absl::OkStatus() : failure_;
  }

 private:
  // The head seen at start (without --follow) is printed.
  bool Reached() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_at_.has_value() && tip_.seq >= *stop_at_;
  }
  bool Finished() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return Reached() || !failure_.ok(); }

  mutable absl::Mutex mu_;
  feed::ChainTip tip_ ABSL_GUARDED_BY(mu_);
  bool printed_ ABSL_GUARDED_BY(mu_) = false;
  std::string origin_key_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  const absl::optional<uint64_t> stop_at_;
  const bool flush_each_;
  const feed::EventFilter filter_;
  const bool text_;
};

// The origin key to check events with: --origin-key, or what the node reports.
absl::StatusOr<std::string> OriginKeyFor(const v1::Head& head, const std::string& upstream,
                                         const std::string& flag) {
  if (!flag.empty()) {
    absl::StatusOr<std::string> text = base::ReadFile(flag);
    if (!text.ok()) return text.status();
    return feed::ParsePublicKey(*text);
  }
  if (head.origin_key().size() != feed::kPublicKeyBytes) {
    return absl::UnavailableError(absl::StrCat(upstream, " does not know the origin's key yet"));
  }
  return head.origin_key();
}

}  // namespace

int RunTailCommand(const std::vector<std::string>& args) {
  std::string upstream;
  uint64_t since = 0;
  bool follow = false;
  feed::EventFilter filter;
  std::string format = "json";
  FlagSet flags("pgxnd tail",
                "--upstream HOST:PORT|https://HOST[:PORT] [--upstream-ca FILE] [--since SEQ] "
                "[--follow] [--kind K] [--dist D] [--user U] [--tag T] [--format json|text]",
                "Prints the events of a node's release feed, one per line: with --format json\n"
                "(the default) a JSON object {\"seq\", \"kind\", \"dist\", \"version\", \"user\",\n"
                "\"time\", \"paths\", \"tags\"}; with --format text \"SEQ KIND DIST VERSION by "
                "USER at TIME\".\n"
                "Every event is checked: its hash, the origin's signature, and the chain.\n"
                "Starts after --since (0: from the first event) and stops at the node's head,\n"
                "or with --follow keeps printing new events as they arrive, reconnecting when\n"
                "the connection drops. --kind, --dist, --user and --tag print only the events\n"
                "they name (each may be repeated: any of its values; together: all of them);\n"
                "every event is still checked.\n"
                "Exits 1 with the reason when the node cannot be reached, an event does not\n"
                "verify (e.g. against --origin-key) or the feed ends early; 2 on a usage error.\n"
                "Example: pgxnd tail --upstream NODE:PORT --follow --kind release --tag json");
  flags.String("upstream", &upstream,
               "Feed of any node (required): HOST:PORT in plaintext, or https://HOST[:PORT] over "
               "TLS (port 443 by default; the certificate must verify, there is no fallback to "
               "plaintext)");
  std::string upstream_ca;
  flags.String("upstream-ca", &upstream_ca,
               "PEM file of the CA certificates an https:// upstream is verified against "
               "(default: the system's CA store, /etc/ssl/certs/ca-certificates.crt)");
  flags.Uint64("since", &since, "print events with a seq greater than this");
  flags.Bool("follow", &follow, "keep following the feed");
  flags.Strings("kind", &filter.kinds,
                "print only events of this kind: release, user, mirrors, delete, meta, stats");
  flags.Strings("dist", &filter.dists, "print only events about this distribution (any case)");
  flags.Strings("user", &filter.users, "print only events by this user (a nickname)");
  flags.Strings("tag", &filter.tags,
                "print only events that change this tag's releases (a release carrying it, or "
                "the removal of one)");
  flags.String("format", &format, "json (one object per line) or text (one line for people)");
  std::string origin_key_file;
  flags.String("origin-key", &origin_key_file,
               "file with the origin's public key (ed25519:<hex>, as /meta/origin.pub serves it); "
               "default: trust the key the node reports");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd tail takes no arguments (see --help)");
  if (upstream.empty()) return UsageError("pgxnd tail: --upstream is required");
  if (format != "json" && format != "text") {
    return UsageError(absl::StrCat("pgxnd tail: --format is json or text, not \"", format, "\""));
  }
  if (absl::Status valid = feed::ValidateEventFilter(filter); !valid.ok()) {
    return UsageError(absl::StrCat("pgxnd tail: ", valid.message()));
  }
  absl::StatusOr<feed::UpstreamTarget> target = feed::ParseUpstream(upstream);
  if (!target.ok()) {
    return UsageError(absl::StrCat("pgxnd tail: ", target.status().message()));
  }
  if (!upstream_ca.empty() && !target->tls) {
    return UsageError("pgxnd tail: --upstream-ca is for an https:// upstream");
  }
  absl::StatusOr<feed::UpstreamTrust> trust = feed::LoadUpstreamTrust(upstream_ca);
  if (!trust.ok()) return Fail(trust.status());

  absl::StatusOr<v1::Head> node_head = feed::FetchHead(upstream, absl::Seconds(30), *trust);
  if (!node_head.ok()) return Fail(node_head.status());
  absl::StatusOr<std::string> origin_key = OriginKeyFor(*node_head, upstream, origin_key_file);
  if (!origin_key.ok()) return Fail(origin_key.status());
  // Without --follow, stop at the node's head as it was when we started.
  absl::optional<uint64_t> stop_at;
  if (!follow) stop_at = node_head->seq();
  if (stop_at.has_value() && since >= *stop_at) return kExitOk;

  PrintingSink sink(since, *origin_key, stop_at, /*flush_each=*/follow, std::move(filter),
                    format == "text");
  feed::FeedClientOptions options;
  options.upstreams = {upstream};
  options.trust = *trust;
  options.include_content = false;
  options.bootstrap_from_snapshot = false;
  options.retry = [&sink, follow](const absl::Status& ended) { return sink.Retry(ended, follow); };
  feed::FeedClient client(options, &sink);
  client.Start();
  absl::Status status = sink.Wait();
  client.Stop();
  std::cout.flush();
  if (!status.ok()) {
    return Fail(absl::Status(status.code(),
                             absl::StrCat("Feed from ", upstream, " ended: ", status.message())));
  }
  return kExitOk;
}

}  // namespace pgxn::cli
