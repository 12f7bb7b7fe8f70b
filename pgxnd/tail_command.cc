// pgxnd tail: prints the release feed as JSON lines, for scripts and people.
// Events are checked as they arrive (each hash, and the chain from the first
// event printed on), so a corrupted relay cannot feed a script bad data.
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "node/address.h"
#include "node/digest.h"
#include "node/event_chain.h"
#include "node/files.h"
#include "node/signing.h"
#include "pgxn/feed/v1/feed.grpc.pb.h"
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
  };
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Checks `event` against the previous one printed (if any) and the origin's key.
absl::Status Check(const v1::Event& event, const absl::optional<node::ChainTip>& previous,
                   absl::string_view origin_key) {
  if (previous.has_value()) {
    return node::VerifyEvent(event, *previous, /*require_content=*/false, origin_key);
  }
  if (node::ComputeEventHash(event) != event.hash()) {
    return absl::DataLossError(absl::StrCat("Event ", event.seq(), " hash does not match"));
  }
  return node::VerifyEventSignature(origin_key, event);
}

absl::StatusOr<v1::Head> GetHead(const std::string& upstream) {
  auto feed = v1::Feed::NewStub(grpc::CreateChannel(upstream, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::Head head;
  grpc::Status status = feed->GetHead(&context, v1::GetHeadRequest(), &head);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("Cannot reach ", upstream, ": ", status.error_message()));
  }
  return head;
}

// The origin key to check events with: --origin-key, or what the node reports.
absl::StatusOr<std::string> OriginKeyFor(const v1::Head& head, const std::string& upstream,
                                         const std::string& flag) {
  if (!flag.empty()) {
    absl::StatusOr<std::string> text = node::ReadFile(flag);
    if (!text.ok()) return text.status();
    return node::ParsePublicKey(*text);
  }
  if (head.origin_key().size() != node::kPublicKeyBytes) {
    return absl::UnavailableError(absl::StrCat(upstream, " does not know the origin's key yet"));
  }
  return head.origin_key();
}

}  // namespace

int RunTailCommand(const std::vector<std::string>& args) {
  std::string upstream;
  uint64_t since = 0;
  bool follow = false;
  FlagSet flags("pgxnd tail", "--upstream HOST:PORT [--since SEQ] [--follow]",
                "Prints the events of a node's release feed, one JSON object per line:\n"
                "{\"seq\", \"kind\", \"dist\", \"version\", \"user\", \"time\", \"paths\"}.\n"
                "Every event is checked: its hash, the origin's signature, and the chain.\n"
                "Starts after --since (0: from the first event) and stops at the node's head,\n"
                "or with --follow keeps printing new events as they arrive, reconnecting when\n"
                "the connection drops.");
  flags.String("upstream", &upstream, "Feed address HOST:PORT of any node (required)");
  flags.Uint64("since", &since, "print events with a seq greater than this");
  flags.Bool("follow", &follow, "keep following the feed");
  std::string origin_key_file;
  flags.String("origin-key", &origin_key_file,
               "file with the origin's public key (ed25519:<hex>, as /meta/origin.pub serves it); "
               "default: trust the key the node reports");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd tail takes no arguments (see --help)");
  if (upstream.empty()) return UsageError("pgxnd tail: --upstream is required");
  if (absl::Status s = node::ParseHostPort(upstream).status(); !s.ok()) {
    return UsageError(absl::StrCat("pgxnd tail: --upstream ", s.message()));
  }

  absl::StatusOr<v1::Head> node_head = GetHead(upstream);
  if (!node_head.ok()) return Fail(node_head.status());
  absl::StatusOr<std::string> origin_key = OriginKeyFor(*node_head, upstream, origin_key_file);
  if (!origin_key.ok()) return Fail(origin_key.status());
  absl::optional<node::ChainTip> previous;
  uint64_t cursor = since;
  // Without --follow, stop at the node's head as it was when we started.
  absl::optional<uint64_t> stop_at;
  if (!follow) stop_at = node_head->seq();
  if (stop_at.has_value() && since >= *stop_at) return kExitOk;
  absl::Duration backoff = absl::Milliseconds(100);
  absl::BitGen random;
  while (true) {
    auto feed =
        v1::Feed::NewStub(grpc::CreateChannel(upstream, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::SubscribeRequest request;
    request.set_after_seq(cursor);
    request.set_include_content(false);
    if (previous.has_value()) request.set_epoch(previous->epoch);
    auto reader = feed->Subscribe(&context, request);
    v1::FeedMessage message;
    while (reader->Read(&message)) {
      if (message.has_event()) {
        const v1::Event& event = message.event();
        if (absl::Status s = Check(event, previous, *origin_key); !s.ok()) {
          context.TryCancel();
          reader->Finish();
          return Fail(s);
        }
        std::cout << EventLine(event) << "\n";
        previous = node::TipAfter(event);
        cursor = event.seq();
        backoff = absl::Milliseconds(100);
      }
      if (stop_at.has_value() && cursor >= *stop_at) {
        std::cout.flush();
        context.TryCancel();
        reader->Finish();
        return kExitOk;
      }
      if (follow) std::cout.flush();
    }
    grpc::Status status = reader->Finish();
    if (!follow || status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      return Fail(absl::UnavailableError(
          absl::StrCat("Feed from ", upstream, " ended: ", status.error_message())));
    }
    std::cerr << "pgxnd tail: feed from " << upstream << " ended (" << status.error_message()
              << "); reconnecting" << std::endl;
    absl::SleepFor(backoff * absl::Uniform(random, 0.5, 1.5));
    backoff = std::min(backoff * 2, absl::Seconds(10));
  }
}

}  // namespace pgxn::cli
