#include "node/store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "node/digest.h"

namespace pgxn::node {
namespace {

constexpr char kFilesFamily[] = "files";
constexpr char kBlobsFamily[] = "blobs";
constexpr char kEventsFamily[] = "events";
constexpr char kMetaFamily[] = "meta";

// Keys in `meta`. Values owned by other components (PutMeta) are prefixed so
// they can never overwrite the chain state.
constexpr char kAppliedSeqKey[] = "applied_seq";
constexpr char kEpochKey[] = "epoch";
constexpr char kTipHashKey[] = "tip_hash";
constexpr char kExternalPrefix[] = "x:";

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut()) return absl::UnavailableError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

std::string SeqKey(uint64_t seq) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, seq >>= 8) key[i] = static_cast<char>(seq & 0xff);
  return key;
}

uint64_t DecodeU64(absl::string_view bytes) {
  uint64_t value = 0;
  for (unsigned char c : bytes.substr(0, 8)) value = (value << 8) | c;
  return value;
}

// files value: sha256 (32) | size (8) | seq (8) | time_us (8) | media type.
constexpr size_t kFileHeaderBytes = kSha256Size + 24;

std::string EncodeFile(const StoredFile& file) {
  std::string out = file.sha256;
  out += SeqKey(file.size);
  out += SeqKey(file.seq);
  out += SeqKey(static_cast<uint64_t>(file.time_us));
  out += file.media_type;
  return out;
}

absl::StatusOr<StoredFile> DecodeFile(absl::string_view value) {
  if (value.size() < kFileHeaderBytes) return absl::DataLossError("Truncated file record");
  StoredFile file;
  file.sha256 = std::string(value.substr(0, kSha256Size));
  file.size = DecodeU64(value.substr(kSha256Size, 8));
  file.seq = DecodeU64(value.substr(kSha256Size + 8, 8));
  file.time_us = static_cast<int64_t>(DecodeU64(value.substr(kSha256Size + 16, 8)));
  file.media_type = std::string(value.substr(kFileHeaderBytes));
  return file;
}

}  // namespace

struct Store::Db {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned; released in ~Db
  rocksdb::ColumnFamilyHandle* files = nullptr;
  rocksdb::ColumnFamilyHandle* blobs = nullptr;
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;

  ~Db() {
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    db.reset();
  }

  absl::StatusOr<std::string> Get(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                                  absl::string_view what) const {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), family, ToSlice(key), &value);
    if (!s.ok()) return FromRocks(s, what);
    return value;
  }
};

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;

  rocksdb::ColumnFamilyOptions plain;
  // Archives can be tens of megabytes: keep large values out of the LSM tree.
  rocksdb::ColumnFamilyOptions blob_options;
  blob_options.enable_blob_files = true;
  blob_options.min_blob_size = 4096;
  blob_options.enable_blob_garbage_collection = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, plain},
      {kFilesFamily, plain},
      {kBlobsFamily, blob_options},
      {kEventsFamily, plain},
      {kMetaFamily, plain},
  };
  auto db = std::make_unique<Db>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, families, &db->handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("Cannot open the store in ", dir));
  db->db.reset(raw);
  db->files = db->handles[1];
  db->blobs = db->handles[2];
  db->events = db->handles[3];
  db->meta = db->handles[4];

  ChainTip tip{0, "", GenesisHash()};
  absl::StatusOr<std::string> seq = db->Get(db->meta, kAppliedSeqKey, "applied seq");
  if (seq.ok()) {
    tip.seq = DecodeU64(*seq);
    absl::StatusOr<std::string> epoch = db->Get(db->meta, kEpochKey, "epoch");
    absl::StatusOr<std::string> hash = db->Get(db->meta, kTipHashKey, "tip hash");
    if (!epoch.ok()) return epoch.status();
    if (!hash.ok()) return hash.status();
    tip.epoch = *std::move(epoch);
    tip.hash = *std::move(hash);
  } else if (!absl::IsNotFound(seq.status())) {
    return seq.status();
  }
  return std::unique_ptr<Store>(new Store(std::move(db), std::move(tip)));
}

Store::Store(std::unique_ptr<Db> db, ChainTip tip) : db_(std::move(db)), tip_(std::move(tip)) {}

Store::~Store() = default;

ChainTip Store::Tip() const {
  absl::MutexLock lock(&tip_mu_);
  return tip_;
}

absl::StatusOr<bool> Store::Apply(const v1::Event& event) {
  absl::MutexLock apply_lock(&apply_mu_);
  const ChainTip tip = Tip();
  if (event.seq() != 0 && event.seq() <= tip.seq) {
    absl::StatusOr<std::string> stored = db_->Get(db_->events, SeqKey(event.seq()), "event");
    if (!stored.ok()) return stored.status();
    v1::Event existing;
    if (!existing.ParseFromString(*stored)) {
      return absl::DataLossError(absl::StrCat("Stored event ", event.seq(), " does not parse"));
    }
    if (existing.hash() != event.hash()) {
      return absl::FailedPreconditionError(
          absl::StrCat("Event ", event.seq(), " differs from the one already applied (hash ",
                       HexEncode(event.hash()), " != ", HexEncode(existing.hash()), ")"));
    }
    return false;
  }
  if (absl::Status s = VerifyEvent(event, tip, /*require_content=*/true); !s.ok()) return s;

  rocksdb::WriteBatch batch;
  v1::Event record = event;
  for (v1::Op& op : *record.mutable_ops()) {
    if (op.type() == v1::Op::PUT) {
      batch.Put(db_->blobs, ToSlice(op.sha256()), ToSlice(op.content()));
      StoredFile file{op.sha256(), op.size(), op.media_type(), event.seq(), event.time_us()};
      batch.Put(db_->files, ToSlice(op.path()), EncodeFile(file));
      op.clear_content();
    } else {
      batch.Delete(db_->files, ToSlice(op.path()));
    }
  }
  batch.Put(db_->events, SeqKey(event.seq()), record.SerializeAsString());
  batch.Put(db_->meta, kAppliedSeqKey, SeqKey(event.seq()));
  batch.Put(db_->meta, kEpochKey, ToSlice(event.epoch()));
  batch.Put(db_->meta, kTipHashKey, ToSlice(event.hash()));
  rocksdb::WriteOptions options;  // WAL on; a process crash loses nothing written
  if (absl::Status s = FromRocks(db_->db->Write(options, &batch),
                                 absl::StrCat("Cannot apply event ", event.seq()));
      !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&tip_mu_);
  tip_ = TipAfter(event);
  return true;
}

absl::Status Store::SyncWal() const {
  return FromRocks(db_->db->FlushWAL(/*sync=*/true), "Cannot sync the store's log");
}

absl::StatusOr<StoredFile> Store::GetFile(absl::string_view path) const {
  absl::StatusOr<std::string> value = db_->Get(db_->files, path, absl::StrCat("File ", path));
  if (!value.ok()) return value.status();
  return DecodeFile(*value);
}

absl::StatusOr<std::string> Store::GetBlob(absl::string_view sha256) const {
  return db_->Get(db_->blobs, sha256, absl::StrCat("Blob ", HexEncode(sha256)));
}

absl::Status Store::AttachContents(v1::Event* event) const {
  for (v1::Op& op : *event->mutable_ops()) {
    if (op.type() != v1::Op::PUT) continue;
    absl::StatusOr<std::string> blob = GetBlob(op.sha256());
    if (!blob.ok()) return blob.status();
    op.set_content(*std::move(blob));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Event> Store::GetEvent(uint64_t seq, bool include_content) const {
  absl::StatusOr<std::string> value =
      db_->Get(db_->events, SeqKey(seq), absl::StrCat("Event ", seq));
  if (!value.ok()) return value.status();
  v1::Event event;
  if (!event.ParseFromString(*value)) {
    return absl::DataLossError(absl::StrCat("Stored event ", seq, " does not parse"));
  }
  if (include_content) {
    if (absl::Status s = AttachContents(&event); !s.ok()) return s;
  }
  return event;
}

absl::Status Store::ForEachFile(
    const std::function<bool(absl::string_view path, const StoredFile&)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->files));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StatusOr<StoredFile> file =
        DecodeFile(absl::string_view(it->value().data(), it->value().size()));
    if (!file.ok()) return file.status();
    if (!visit(absl::string_view(it->key().data(), it->key().size()), *file)) break;
  }
  return FromRocks(it->status(), "Cannot list files");
}

absl::StatusOr<std::string> Store::GetMeta(absl::string_view key) const {
  return db_->Get(db_->meta, absl::StrCat(kExternalPrefix, key), absl::StrCat("Meta ", key));
}

absl::Status Store::PutMeta(absl::string_view key, absl::string_view value) {
  return FromRocks(db_->db->Put(rocksdb::WriteOptions(), db_->meta,
                                absl::StrCat(kExternalPrefix, key), ToSlice(value)),
                   absl::StrCat("Cannot write meta ", key));
}

absl::StatusOr<ChainTip> Store::Head() const { return Tip(); }

absl::StatusOr<std::vector<v1::Event>> Store::ReadAfter(uint64_t after_seq, size_t max_events,
                                                        size_t max_bytes,
                                                        bool include_content) const {
  std::vector<v1::Event> events;
  // Bound the scan by the tip read now, so an event being applied concurrently
  // is never returned before its meta says it is applied.
  const uint64_t head = Tip().seq;
  size_t bytes = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->events));
  for (it->Seek(SeqKey(after_seq + 1)); it->Valid() && events.size() < max_events; it->Next()) {
    const uint64_t seq = DecodeU64(absl::string_view(it->key().data(), it->key().size()));
    if (seq > head) break;
    v1::Event event;
    if (!event.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("Stored event ", seq, " does not parse"));
    }
    if (event.seq() != seq || seq != after_seq + events.size() + 1) {
      return absl::DataLossError(absl::StrCat("Event log has a hole before seq ", seq));
    }
    if (include_content) {
      if (absl::Status s = AttachContents(&event); !s.ok()) return s;
    }
    for (const v1::Op& op : event.ops()) bytes += op.size();
    events.push_back(std::move(event));
    if (bytes >= max_bytes) break;
  }
  if (absl::Status s = FromRocks(it->status(), "Cannot read events"); !s.ok()) return s;
  return events;
}

uint64_t Store::WaitForHeadAbove(uint64_t seq, absl::Time deadline) const {
  absl::MutexLock lock(&tip_mu_);
  auto above = [this, seq]() ABSL_SHARED_LOCKS_REQUIRED(tip_mu_) { return tip_.seq > seq; };
  tip_mu_.AwaitWithDeadline(absl::Condition(&above), deadline);
  return tip_.seq;
}

}  // namespace pgxn::node
