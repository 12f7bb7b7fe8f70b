#include "feed/event_chain.h"

#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/digest.h"
#include "feed/event_kind.h"
#include "feed/signing.h"

namespace pgxn::feed {
namespace {

// Bumped only with a new hash format; mixing it in keeps a hash of one format
// from ever equalling a hash of another.
constexpr absl::string_view kEncodingTag = "pgxn.feed.v1.Event\n";

void AppendU64(uint64_t value, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

void AppendBytes(absl::string_view bytes, std::string* out) {
  AppendU64(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

absl::Status CheckOp(const v1::Op& op, bool require_content) {
  if (absl::Status s = CheckTreePath(op.path()); !s.ok()) return s;
  switch (op.type()) {
    case v1::Op::DELETE:
      if (!op.sha256().empty() || op.size() != 0 || !op.content().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("Delete of \"", op.path(), "\" carries file data"));
      }
      return absl::OkStatus();
    case v1::Op::PUT:
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("Op on \"", op.path(), "\" has unknown type ", op.type()));
  }
  if (op.sha256().size() != base::kSha256Size) {
    return absl::InvalidArgumentError(
        absl::StrCat("Put of \"", op.path(), "\" has a sha256 of ", op.sha256().size(), " bytes"));
  }
  if (op.media_type().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("Put of \"", op.path(), "\" has no media type"));
  }
  if (op.content().empty() && op.size() != 0) {
    if (require_content) {
      return absl::InvalidArgumentError(absl::StrCat("Put of \"", op.path(), "\" has no content"));
    }
    return absl::OkStatus();
  }
  if (op.content().size() != op.size()) {
    return absl::DataLossError(absl::StrCat("Put of \"", op.path(), "\" has ", op.content().size(),
                                            " bytes, expected ", op.size()));
  }
  if (base::Sha256(op.content()) != op.sha256()) {
    return absl::DataLossError(absl::StrCat("Put of \"", op.path(),
                                            "\": content does not match its sha256 ",
                                            base::HexEncode(op.sha256())));
  }
  return absl::OkStatus();
}

}  // namespace

bool HasTreeSize(const v1::Event& event) {
  return !event.tree_digest().empty() && (event.tree_files() != 0 || event.tree_bytes() != 0);
}

std::string GenesisHash() { return std::string(base::kSha256Size, '\0'); }

std::string CanonicalEncoding(const v1::Event& event) {
  std::string out(kEncodingTag);
  AppendU64(event.seq(), &out);
  AppendBytes(event.epoch(), &out);
  AppendU64(static_cast<uint64_t>(event.time_us()), &out);
  AppendBytes(event.kind(), &out);
  AppendBytes(event.actor(), &out);
  AppendBytes(event.subject().dist(), &out);
  AppendBytes(event.subject().version(), &out);
  AppendBytes(event.prev_hash(), &out);
  AppendU64(event.ops_size(), &out);
  for (const v1::Op& op : event.ops()) {
    AppendU64(static_cast<uint64_t>(op.type()), &out);
    AppendBytes(op.path(), &out);
    AppendBytes(op.sha256(), &out);
    AppendU64(op.size(), &out);
    AppendBytes(op.media_type(), &out);
  }
  // Appended only when present, so events from before tree digests existed
  // keep their hashes.
  if (!event.tree_digest().empty()) AppendBytes(event.tree_digest(), &out);
  // Likewise the tree's size, which only follows a digest: the digest's
  // length prefix keeps the two shapes apart.
  if (HasTreeSize(event)) {
    AppendU64(event.tree_files(), &out);
    AppendU64(event.tree_bytes(), &out);
  }
  // Last, and only after the tree's size (CheckEvent refuses them without
  // it): an encoding ending after tree_bytes has no tags, so the shapes with
  // and without them cannot be confused.
  if (event.tags_size() > 0) {
    AppendU64(static_cast<uint64_t>(event.tags_size()), &out);
    for (const std::string& tag : event.tags()) AppendBytes(tag, &out);
  }
  return out;
}

std::string ComputeEventHash(const v1::Event& event) {
  return base::Sha256(CanonicalEncoding(event));
}

void SealEvent(const ChainTip& tip, v1::Event* event) {
  event->set_prev_hash(tip.hash.empty() ? GenesisHash() : tip.hash);
  event->set_hash(ComputeEventHash(*event));
}

absl::Status CheckTreePath(absl::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("Tree path is empty");
  if (path.size() > kMaxTreePathBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Tree path of ", path.size(), " bytes exceeds ", kMaxTreePathBytes));
  }
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      return absl::InvalidArgumentError(
          absl::StrCat("Tree path \"", absl::CEscape(path), "\" contains a forbidden character"));
    }
  }
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (segment.empty() || segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("Tree path \"", path, "\" has an empty, \".\" or \"..\" segment"));
    }
  }
  return absl::OkStatus();
}

absl::Status VerifyEvent(const v1::Event& event, const ChainTip& tip, bool require_content,
                         absl::string_view origin_key) {
  if (absl::Status s = VerifyEventLink(event, tip); !s.ok()) return s;
  return VerifyEventAlone(event, require_content, origin_key);
}

absl::Status VerifyEventLink(const v1::Event& event, const ChainTip& tip) {
  if (!tip.epoch.empty() && event.epoch() != tip.epoch) {
    return absl::FailedPreconditionError(absl::StrCat("Event ", event.seq(), " belongs to epoch ",
                                                      event.epoch(), ", not ", tip.epoch));
  }
  if (event.seq() != tip.seq + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("Event ", event.seq(), " does not follow ", tip.seq));
  }
  const std::string expected_prev = tip.hash.empty() ? GenesisHash() : tip.hash;
  if (event.prev_hash() != expected_prev) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Event ", event.seq(), " does not extend the chain: prev_hash ",
        base::HexEncode(event.prev_hash()), ", expected ", base::HexEncode(expected_prev)));
  }
  return absl::OkStatus();
}

absl::Status VerifyEventAlone(const v1::Event& event, bool require_content,
                              absl::string_view origin_key) {
  if (event.epoch().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("Event ", event.seq(), " has no epoch"));
  }
  if (!ParseEventKind(event.kind()).has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Event ", event.seq(), " has unknown kind \"", event.kind(), "\""));
  }
  if (static_cast<size_t>(event.ops_size()) > kMaxOpsPerEvent) {
    return absl::InvalidArgumentError(
        absl::StrCat("Event ", event.seq(), " has ", event.ops_size(), " ops"));
  }
  if (ComputeEventHash(event) != event.hash()) {
    return absl::DataLossError(absl::StrCat("Event ", event.seq(), " hash ",
                                            base::HexEncode(event.hash()),
                                            " does not match its contents"));
  }
  if (!origin_key.empty()) {
    if (absl::Status s = VerifyEventSignature(origin_key, event); !s.ok()) return s;
  }
  if (!event.tree_digest().empty() && event.tree_digest().size() != base::kSha256Size) {
    return absl::InvalidArgumentError(absl::StrCat("Event ", event.seq(), " has a tree digest of ",
                                                   event.tree_digest().size(), " bytes"));
  }
  if (event.tree_digest().empty() && (event.tree_files() != 0 || event.tree_bytes() != 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Event ", event.seq(), " states the tree's size without a tree digest"));
  }
  if (event.tags_size() > 0 && !HasTreeSize(event)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Event ", event.seq(), " names tags without the tree's size"));
  }
  if (static_cast<size_t>(event.tags_size()) > kMaxEventTags) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Event ", event.seq(), " names ", event.tags_size(), " tags, more than ", kMaxEventTags));
  }
  for (const std::string& tag : event.tags()) {
    if (tag.empty() || tag.size() > kMaxTreePathBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("Event ", event.seq(), " names a tag of ", tag.size(), " bytes"));
    }
  }
  absl::flat_hash_set<absl::string_view> paths;
  for (const v1::Op& op : event.ops()) {
    if (absl::Status s = CheckOp(op, require_content); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("Event ", event.seq(), ": ", s.message()));
    }
    if (!paths.insert(op.path()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("Event ", event.seq(), " touches \"", op.path(), "\" twice"));
    }
  }
  return absl::OkStatus();
}

ChainTip TipAfter(const v1::Event& event) {
  return ChainTip{event.seq(), event.epoch(), event.hash()};
}

}  // namespace pgxn::feed
