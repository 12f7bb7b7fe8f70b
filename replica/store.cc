#include "replica/store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/log.h"
#include "feed/signing.h"

namespace pgxn::replica {
namespace {

constexpr char kFilesFamily[] = "files";
constexpr char kBlobsFamily[] = "blobs";
constexpr char kEventsFamily[] = "events";
constexpr char kMetaFamily[] = "meta";
constexpr char kDerivedFamily[] = "derived";

// Keys in `meta`. Values owned by other components (PutMeta) are prefixed so
// they can never overwrite the node's own state.
constexpr char kAppliedSeqKey[] = "applied_seq";
constexpr char kEpochKey[] = "epoch";
constexpr char kTipHashKey[] = "tip_hash";
constexpr char kOriginKeyKey[] = "origin_key";
constexpr char kTreeStateKey[] = "tree_state";
constexpr char kLogStartKey[] = "log_start";
constexpr char kHeartbeatKey[] = "heartbeat";
constexpr char kBootstrappingKey[] = "bootstrapping";
constexpr char kDerivedSeqKey[] = "derived_seq";
constexpr char kExternalPrefix[] = "x:";

// A snapshot is written in batches of about this many bytes.
constexpr size_t kBootstrapBatchBytes = 32 << 20;

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut()) return absl::UnavailableError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
absl::string_view ToView(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

std::string SeqKey(uint64_t seq) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, seq >>= 8) key[i] = static_cast<char>(seq & 0xff);
  return key;
}

// Contents larger than one chunk are stored as chunks under sha256 followed by
// the chunk's big-endian index, so that a reader takes a bounded piece of a
// large zip at a time (a whole RocksDB value is always read whole). Stores
// written before this kept every blob under its sha256 alone; those are still
// read, whole.
constexpr size_t kBlobChunk = Store::kBlobChunkBytes;

std::string ChunkKey(absl::string_view sha256, uint64_t index) {
  std::string key(sha256);
  for (int shift = 24; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((index >> shift) & 0xff));
  }
  return key;
}

void PutBlob(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* blobs,
             absl::string_view sha256, absl::string_view content) {
  if (content.size() <= kBlobChunk) {
    batch.Put(blobs, ToSlice(sha256), ToSlice(content));
    return;
  }
  for (uint64_t index = 0, offset = 0; offset < content.size(); ++index, offset += kBlobChunk) {
    batch.Put(blobs, ChunkKey(sha256, index), ToSlice(content.substr(offset, kBlobChunk)));
  }
}

// Set once every blob larger than a chunk is stored in chunks.
constexpr char kBlobsChunkedKey[] = "blobs_chunked";
constexpr size_t kMigrationBatchBytes = 64 << 20;

uint64_t DecodeU64(absl::string_view bytes) {
  uint64_t value = 0;
  for (unsigned char c : bytes.substr(0, 8)) value = (value << 8) | c;
  return value;
}

// files value: sha256 (32) | size (8) | seq (8) | time_us (8) | media type.
constexpr size_t kFileHeaderBytes = base::kSha256Size + 24;

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
  file.sha256 = std::string(value.substr(0, base::kSha256Size));
  file.size = DecodeU64(value.substr(base::kSha256Size, 8));
  file.seq = DecodeU64(value.substr(base::kSha256Size + 8, 8));
  file.time_us = static_cast<int64_t>(DecodeU64(value.substr(base::kSha256Size + 16, 8)));
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
  rocksdb::ColumnFamilyHandle* derived = nullptr;
  bool read_only = false;  // opened by OpenReadOnly

  // After opening with Families().
  void AssignHandles() {
    files = handles[1];
    blobs = handles[2];
    events = handles[3];
    meta = handles[4];
    derived = handles[5];
  }

  ~Db() {
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    db.reset();
  }

  absl::StatusOr<std::string> Get(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                                  absl::string_view what,
                                  const rocksdb::Snapshot* snapshot = nullptr) const {
    std::string value;
    rocksdb::ReadOptions options;
    options.snapshot = snapshot;
    rocksdb::Status s = db->Get(options, family, ToSlice(key), &value);
    if (!s.ok()) return FromRocks(s, what);
    return value;
  }

  // Deletes every key of the node's own state: the tree, the log and the
  // chain meta, in one batch.
  absl::Status ClearAll() {
    rocksdb::WriteBatch batch;
    const std::string low(1, '\0');
    const std::string high(1024 + 16, '\xff');
    // Derived documents describe the tree: they go with it.
    for (auto* family : {files, blobs, events, derived}) batch.DeleteRange(family, low, high);
    for (const char* key : {kAppliedSeqKey, kEpochKey, kTipHashKey, kTreeStateKey, kLogStartKey,
                            kHeartbeatKey, kBootstrappingKey, kDerivedSeqKey}) {
      batch.Delete(meta, key);
    }
    return FromRocks(db->Write(rocksdb::WriteOptions(), &batch), "Cannot clear the store");
  }

  // ClearAll, then compacts the tree's families so that what was deleted
  // leaves the disk now (deleted keys and their blob files otherwise stay
  // until compactions happen to reach them): for a refused snapshot, which
  // may have written as much as its head claimed.
  absl::Status Purge() {
    if (absl::Status s = ClearAll(); !s.ok()) return s;
    // Every family flushed, so that no write-ahead log file still holding
    // the deleted data is needed any more.
    if (absl::Status s = FromRocks(db->Flush(rocksdb::FlushOptions(), handles), "Cannot flush");
        !s.ok()) {
      return s;
    }
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* family : {files, blobs, events}) {
      if (absl::Status s = FromRocks(db->CompactRange(options, family, nullptr, nullptr),
                                     "Cannot compact the store");
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
};

// Stores written before chunking hold large blobs whole, which a reader could
// only take whole; they are rewritten in chunks once, when first opened.
absl::Status Store::ChunkWholeBlobs(Db& db) {
  if (db.Get(db.meta, kBlobsChunkedKey, "chunked mark").ok()) return absl::OkStatus();
  std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(rocksdb::ReadOptions(), db.blobs));
  rocksdb::WriteBatch batch;
  size_t rewritten = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != base::kSha256Size || it->value().size() <= kBlobChunk) continue;
    PutBlob(batch, db.blobs, ToView(it->key()), ToView(it->value()));
    batch.Delete(db.blobs, it->key());
    ++rewritten;
    if (batch.GetDataSize() >= kMigrationBatchBytes) {
      if (absl::Status s = FromRocks(db.db->Write(rocksdb::WriteOptions(), &batch),
                                     "Cannot rewrite blobs in chunks");
          !s.ok()) {
        return s;
      }
      batch.Clear();
    }
  }
  if (absl::Status s = FromRocks(it->status(), "Cannot list blobs"); !s.ok()) return s;
  batch.Put(db.meta, kBlobsChunkedKey, "1");
  if (absl::Status s = FromRocks(db.db->Write(rocksdb::WriteOptions(), &batch),
                                 "Cannot rewrite blobs in chunks");
      !s.ok()) {
    return s;
  }
  if (rewritten > 0) {
    base::LogInfo(absl::StrCat("Store: rewrote ", rewritten, " large blobs in chunks"));
  }
  return absl::OkStatus();
}

namespace {

// The families of a store, as Open creates them and OpenReadOnly reads them.
std::vector<rocksdb::ColumnFamilyDescriptor> Families() {
  rocksdb::ColumnFamilyOptions plain;
  // Paths and blob keys are looked up that are not there: every 404, and
  // the first probe of a blob stored in chunks. A Bloom filter per table
  // (10 bits a key, about 1% false positives) answers most of those misses
  // without reading a data block, for some 1.2 bytes of memory per key.
  rocksdb::BlockBasedTableOptions filtered_table;
  filtered_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions filtered;
  filtered.table_factory.reset(rocksdb::NewBlockBasedTableFactory(filtered_table));
  // Archives can be tens of megabytes: keep large values out of the LSM tree.
  // The blobs family is content-addressed and append-only (every version of
  // a file stays, for relaying the log), so it has no garbage to collect:
  // collecting would only rewrite live blobs over and over in compactions.
  rocksdb::ColumnFamilyOptions blob_options = filtered;
  blob_options.enable_blob_files = true;
  blob_options.min_blob_size = 4096;
  // The derived family rewrites documents in place: its old values are garbage.
  rocksdb::ColumnFamilyOptions derived_options = blob_options;
  derived_options.enable_blob_garbage_collection = true;
  return {
      {rocksdb::kDefaultColumnFamilyName, plain},
      {kFilesFamily, filtered},
      {kBlobsFamily, blob_options},
      {kEventsFamily, plain},
      {kMetaFamily, plain},
      {kDerivedFamily, derived_options},
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // A write-ahead log file is kept until every family with writes in it is
  // flushed, and the small families (meta, events) fill their memtables
  // rarely: by default RocksDB then keeps up to ~3 GB of log (as much as the
  // blobs themselves after 10,000 releases, all replayed at the next start).
  // Past this much, the families holding the oldest log are flushed.
  db_options.max_total_wal_size = uint64_t{256} << 20;

  auto db = std::make_unique<Db>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, Families(), &db->handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("Cannot open the store in ", dir));
  db->db.reset(raw);
  db->AssignHandles();

  // A snapshot bootstrap interrupted by a crash left files without a tip.
  if (db->Get(db->meta, kBootstrappingKey, "bootstrap mark").ok()) {
    if (absl::Status s = db->Purge(); !s.ok()) return s;
  }
  if (absl::Status s = ChunkWholeBlobs(*db); !s.ok()) return s;

  absl::StatusOr<State> state = LoadState(*db);
  if (!state.ok()) return state.status();
  return std::unique_ptr<Store>(new Store(std::move(db), *std::move(state)));
}

// A read-only RocksDB instance of the store in `dir`, beside the node that
// may be running on it. Not a secondary instance: RocksDB does not support
// those with blob files (facebook/rocksdb#13296), and reading a blob through
// one crashed `pgxnd export` on a 100,000-release mirror.
absl::StatusOr<std::unique_ptr<Store::Db>> Store::OpenReadOnlyDb(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    return absl::NotFoundError(absl::StrCat("No store in ", dir));
  }
  rocksdb::DBOptions db_options;
  // Every table file is opened now and held: the node's compactions delete
  // files while this instance still reads them.
  db_options.max_open_files = -1;
  auto db = std::make_unique<Db>();
  db->read_only = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(db_options, dir, Families(), &db->handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("Cannot open the store in ", dir, " to read"));
  db->db.reset(raw);
  db->AssignHandles();
  return db;
}

absl::StatusOr<std::unique_ptr<Store>> Store::OpenReadOnly(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Db>> db = OpenReadOnlyDb(dir);
  if (!db.ok()) return db.status();
  absl::StatusOr<State> state = LoadState(**db);
  if (!state.ok()) return state.status();
  auto store = std::unique_ptr<Store>(new Store(*std::move(db), *std::move(state)));
  store->read_only_dir_ = dir;
  return store;
}

absl::Status Store::CatchUpWithNode() {
  if (!db_->read_only) {
    return absl::FailedPreconditionError("Only a store opened to read catches up with its node");
  }
  // A read-only instance shows the store as it was when opened: open anew.
  absl::StatusOr<std::unique_ptr<Db>> db = OpenReadOnlyDb(read_only_dir_);
  if (!db.ok()) return db.status();
  absl::StatusOr<State> state = LoadState(**db);
  if (!state.ok()) return state.status();
  absl::MutexLock write_lock(&write_mu_);
  absl::MutexLock lock(&mu_);
  db_ = *std::move(db);
  state_ = *std::move(state);
  FilesChanged();
  return absl::OkStatus();
}

bool Store::read_only() const { return db_->read_only; }

absl::Status Store::CheckWritable() const {
  if (!db_->read_only) return absl::OkStatus();
  return absl::FailedPreconditionError("This store is open to read only");
}

absl::StatusOr<Store::State> Store::LoadState(const Db& db) {
  // Only a reader can see the mark: Open purges an interrupted bootstrap.
  if (db.Get(db.meta, kBootstrappingKey, "bootstrap mark").ok()) {
    return absl::UnavailableError("The node is writing a snapshot into its store");
  }
  State state;
  state.tip = feed::ChainTip{0, "", feed::GenesisHash()};
  auto optional = [&](const char* key) -> absl::StatusOr<absl::optional<std::string>> {
    absl::StatusOr<std::string> value = db.Get(db.meta, key, key);
    if (value.ok()) return absl::optional<std::string>(*std::move(value));
    if (absl::IsNotFound(value.status())) return absl::optional<std::string>();
    return value.status();
  };
  absl::StatusOr<absl::optional<std::string>> seq = optional(kAppliedSeqKey);
  if (!seq.ok()) return seq.status();
  if (seq->has_value()) {
    state.tip.seq = DecodeU64(**seq);
    absl::StatusOr<std::string> epoch = db.Get(db.meta, kEpochKey, "epoch");
    absl::StatusOr<std::string> hash = db.Get(db.meta, kTipHashKey, "tip hash");
    if (!epoch.ok()) return epoch.status();
    if (!hash.ok()) return hash.status();
    state.tip.epoch = *std::move(epoch);
    state.tip.hash = *std::move(hash);
  }
  absl::StatusOr<absl::optional<std::string>> key = optional(kOriginKeyKey);
  if (!key.ok()) return key.status();
  if (key->has_value()) state.origin_key = **key;
  absl::StatusOr<absl::optional<std::string>> tree = optional(kTreeStateKey);
  if (!tree.ok()) return tree.status();
  if (tree->has_value()) {
    absl::StatusOr<feed::TreeDigest> digest = feed::TreeDigest::FromState(**tree);
    if (!digest.ok()) return absl::DataLossError(digest.status().message());
    state.tree = *std::move(digest);
  }
  absl::StatusOr<absl::optional<std::string>> log_start = optional(kLogStartKey);
  if (!log_start.ok()) return log_start.status();
  if (log_start->has_value()) state.log_start = DecodeU64(**log_start);
  absl::StatusOr<absl::optional<std::string>> heartbeat = optional(kHeartbeatKey);
  if (!heartbeat.ok()) return heartbeat.status();
  if (heartbeat->has_value()) {
    v1::Heartbeat parsed;
    if (parsed.ParseFromString(**heartbeat)) state.heartbeat = std::move(parsed);
  }
  return state;
}

Store::Store(std::unique_ptr<Db> db, State state) : db_(std::move(db)), state_(std::move(state)) {}

Store::~Store() = default;

Store::State Store::CurrentState() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

feed::ChainTip Store::Tip() const {
  absl::MutexLock lock(&mu_);
  return state_.tip;
}

std::string Store::OriginKey() const {
  absl::MutexLock lock(&mu_);
  return state_.origin_key;
}

absl::optional<v1::Heartbeat> Store::OriginHeartbeat() const {
  absl::MutexLock lock(&mu_);
  return state_.heartbeat;
}

uint64_t Store::LogStart() const {
  absl::MutexLock lock(&mu_);
  return state_.log_start;
}

std::string Store::TreeDigestNow() const {
  absl::MutexLock lock(&mu_);
  return state_.tree.Digest();
}

absl::Status Store::PinOriginKey(absl::string_view public_key) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (public_key.size() != feed::kPublicKeyBytes) {
    return absl::InvalidArgumentError("An origin key has 32 bytes");
  }
  absl::MutexLock write_lock(&write_mu_);
  const std::string pinned = OriginKey();
  if (!pinned.empty()) {
    if (pinned == public_key) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("This node trusts origin key ", feed::FormatPublicKey(pinned).substr(0, 72),
                     ", not ", feed::FormatPublicKey(public_key).substr(0, 72)));
  }
  if (absl::Status s = FromRocks(
          db_->db->Put(rocksdb::WriteOptions(), db_->meta, kOriginKeyKey, ToSlice(public_key)),
          "Cannot pin the origin key");
      !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  state_.origin_key = std::string(public_key);
  return absl::OkStatus();
}

absl::Status Store::CheckEvent(const v1::Event& event, std::string* key) const {
  const std::string origin_key = CurrentState().origin_key;
  if (origin_key.empty()) {
    return absl::FailedPreconditionError("No origin key is pinned; cannot verify events");
  }
  if (absl::Status s = feed::VerifyEventAlone(event, /*require_content=*/true, origin_key);
      !s.ok()) {
    return s;
  }
  *key = origin_key;
  return absl::OkStatus();
}

absl::StatusOr<bool> Store::Apply(const v1::Event& event, absl::string_view checked_with_key) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  absl::MutexLock write_lock(&write_mu_);
  const State state = CurrentState();
  if (state.origin_key.empty()) {
    return absl::FailedPreconditionError("No origin key is pinned; cannot verify events");
  }
  if (event.seq() != 0 && event.seq() <= state.tip.seq) {
    if (event.seq() < state.log_start) return false;  // before a snapshot: nothing to compare
    absl::StatusOr<std::string> stored = db_->Get(db_->events, SeqKey(event.seq()), "event");
    if (!stored.ok()) return stored.status();
    v1::Event existing;
    if (!existing.ParseFromString(*stored)) {
      return absl::DataLossError(absl::StrCat("Stored event ", event.seq(), " does not parse"));
    }
    if (existing.hash() != event.hash()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "Event ", event.seq(), " differs from the one already applied (hash ",
          base::HexEncode(event.hash()), " != ", base::HexEncode(existing.hash()), ")"));
    }
    return false;
  }
  absl::Status verified =
      !checked_with_key.empty() && checked_with_key == state.origin_key
          ? feed::VerifyEventLink(event, state.tip)
          : feed::VerifyEvent(event, state.tip, /*require_content=*/true, state.origin_key);
  if (!verified.ok()) return verified;

  rocksdb::WriteBatch batch;
  feed::TreeDigest tree = state.tree;
  v1::Event record = event;
  for (v1::Op& op : *record.mutable_ops()) {
    absl::StatusOr<StoredFile> old = GetFile(op.path());
    if (old.ok()) {
      tree.Remove(op.path(), old->sha256, old->media_type);
    } else if (!absl::IsNotFound(old.status())) {
      return old.status();
    }
    if (op.type() == v1::Op::PUT) {
      tree.Add(op.path(), op.sha256(), op.media_type());
      PutBlob(batch, db_->blobs, op.sha256(), op.content());
      StoredFile file{op.sha256(), op.size(), op.media_type(), event.seq(), event.time_us()};
      batch.Put(db_->files, ToSlice(op.path()), EncodeFile(file));
      op.clear_content();
    } else {
      batch.Delete(db_->files, ToSlice(op.path()));
    }
  }
  if (!event.tree_digest().empty() && tree.Digest() != event.tree_digest()) {
    return absl::DataLossError(absl::StrCat("Event ", event.seq(),
                                            " would leave this node with a tree whose digest ",
                                            base::HexEncode(tree.Digest()), " is not the origin's ",
                                            base::HexEncode(event.tree_digest())));
  }
  batch.Put(db_->events, SeqKey(event.seq()), record.SerializeAsString());
  batch.Put(db_->meta, kAppliedSeqKey, SeqKey(event.seq()));
  batch.Put(db_->meta, kEpochKey, ToSlice(event.epoch()));
  batch.Put(db_->meta, kTipHashKey, ToSlice(event.hash()));
  batch.Put(db_->meta, kTreeStateKey, tree.State());
  rocksdb::WriteOptions options;  // WAL on; a process crash loses nothing written
  if (absl::Status s = FromRocks(db_->db->Write(options, &batch),
                                 absl::StrCat("Cannot apply event ", event.seq()));
      !s.ok()) {
    return s;
  }
  FilesChanged();
  absl::MutexLock lock(&mu_);
  state_.tip = feed::TipAfter(event);
  state_.tree = std::move(tree);
  return true;
}

absl::Status Store::RecordHeartbeat(const v1::Heartbeat& heartbeat) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  const State state = CurrentState();
  if (state.origin_key.empty()) {
    return absl::FailedPreconditionError("No origin key is pinned; cannot verify heartbeats");
  }
  if (absl::Status s = feed::VerifyHeartbeat(state.origin_key, heartbeat); !s.ok()) return s;
  if (!state.tip.epoch.empty() && heartbeat.epoch() != state.tip.epoch) {
    return absl::FailedPreconditionError(absl::StrCat("Heartbeat of epoch ", heartbeat.epoch(),
                                                      ", this node is on ", state.tip.epoch));
  }
  absl::MutexLock write_lock(&write_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (state_.heartbeat.has_value() && state_.heartbeat->time_us() >= heartbeat.time_us()) {
      return absl::OkStatus();
    }
    state_.heartbeat = heartbeat;
  }
  // Kept for relaying after a restart; losing the newest one costs nothing.
  return FromRocks(db_->db->Put(rocksdb::WriteOptions(), db_->meta, kHeartbeatKey,
                                heartbeat.SerializeAsString()),
                   "Cannot keep the heartbeat");
}

absl::Status Store::Bootstrap(const v1::Event& head,
                              const std::function<absl::StatusOr<v1::Op>()>& next_file) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  absl::MutexLock write_lock(&write_mu_);
  // After whatever this writes, kept or deleted again.
  absl::Cleanup changed = [this] { FilesChanged(); };
  const State state = CurrentState();
  if (state.origin_key.empty()) {
    return absl::FailedPreconditionError("No origin key is pinned; cannot verify a snapshot");
  }
  if (state.tip.seq != 0) {
    return absl::FailedPreconditionError("A snapshot can only bootstrap an empty store");
  }
  // Everything feed::VerifyEvent checks but the link to the previous event.
  feed::ChainTip before{head.seq() - 1, state.tip.epoch, head.prev_hash()};
  if (absl::Status s = feed::VerifyEvent(head, before, /*require_content=*/false, state.origin_key);
      !s.ok()) {
    return s;
  }
  if (head.tree_digest().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Snapshot event ", head.seq(), " carries no tree digest to check it by"));
  }
  if (absl::Status s =
          FromRocks(db_->db->Put(rocksdb::WriteOptions(), db_->meta, kBootstrappingKey, "1"),
                    "Cannot mark the bootstrap");
      !s.ok()) {
    return s;
  }
  auto abandon = [this](absl::Status why) {
    if (absl::Status s = db_->Purge(); !s.ok()) return s;
    return why;
  };
  // The head states the tree's size under the origin's signature: nothing
  // past it is written, so a hostile upstream cannot fill the disk before
  // the digest check at the end refuses its files.
  const bool bounded = feed::HasTreeSize(head);
  feed::TreeDigest tree;
  rocksdb::WriteBatch batch;
  size_t batch_bytes = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  while (true) {
    absl::StatusOr<v1::Op> op = next_file();
    if (absl::IsNotFound(op.status())) break;
    if (!op.ok()) return abandon(op.status());
    if (op->type() != v1::Op::PUT) {
      return abandon(absl::InvalidArgumentError("A snapshot holds only PUT ops"));
    }
    if (bounded && (files + 1 > head.tree_files() ||
                    op->content().size() > head.tree_bytes() - bytes)) {
      return abandon(absl::DataLossError(absl::StrCat(
          "The snapshot sends more than the ", head.tree_files(), " files and ",
          head.tree_bytes(), " bytes the origin signed for event ", head.seq())));
    }
    if (absl::Status s = feed::CheckTreePath(op->path()); !s.ok()) return abandon(s);
    if (op->sha256().size() != base::kSha256Size || op->content().size() != op->size() ||
        base::Sha256(op->content()) != op->sha256()) {
      return abandon(absl::DataLossError(
          absl::StrCat("Snapshot file \"", op->path(), "\" does not match its sha256")));
    }
    tree.Add(op->path(), op->sha256(), op->media_type());
    PutBlob(batch, db_->blobs, op->sha256(), op->content());
    StoredFile file{op->sha256(), op->size(), op->media_type(), head.seq(), head.time_us()};
    batch.Put(db_->files, ToSlice(op->path()), EncodeFile(file));
    batch_bytes += op->content().size() + op->path().size();
    bytes += op->content().size();
    ++files;
    if (batch_bytes >= kBootstrapBatchBytes) {
      if (absl::Status s = FromRocks(db_->db->Write(rocksdb::WriteOptions(), &batch),
                                     "Cannot write the snapshot");
          !s.ok()) {
        return abandon(s);
      }
      batch.Clear();
      batch_bytes = 0;
    }
  }
  if (tree.Digest() != head.tree_digest() ||
      (bounded && (files != head.tree_files() || bytes != head.tree_bytes()))) {
    return abandon(absl::DataLossError(absl::StrCat(
        "The snapshot's ", files, " files (", bytes, " bytes) add up to digest ",
        base::HexEncode(tree.Digest()), ", not the origin's ", base::HexEncode(head.tree_digest()),
        " (", head.tree_files(), " files, ", head.tree_bytes(), " bytes) for event ", head.seq())));
  }
  v1::Event record = head;
  for (v1::Op& op : *record.mutable_ops()) op.clear_content();
  batch.Put(db_->events, SeqKey(head.seq()), record.SerializeAsString());
  batch.Put(db_->meta, kAppliedSeqKey, SeqKey(head.seq()));
  batch.Put(db_->meta, kEpochKey, ToSlice(head.epoch()));
  batch.Put(db_->meta, kTipHashKey, ToSlice(head.hash()));
  batch.Put(db_->meta, kTreeStateKey, tree.State());
  batch.Put(db_->meta, kLogStartKey, SeqKey(head.seq()));
  batch.Delete(db_->meta, kBootstrappingKey);
  if (absl::Status s =
          FromRocks(db_->db->Write(rocksdb::WriteOptions(), &batch), "Cannot finish the snapshot");
      !s.ok()) {
    return abandon(s);
  }
  absl::MutexLock lock(&mu_);
  state_.tip = feed::TipAfter(head);
  state_.tree = std::move(tree);
  state_.log_start = head.seq();
  return absl::OkStatus();
}

absl::Status Store::Clear() {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  absl::MutexLock write_lock(&write_mu_);
  absl::Status cleared = db_->ClearAll();
  FilesChanged();  // a failed batch may still have been written
  if (!cleared.ok()) return cleared;
  absl::MutexLock lock(&mu_);
  state_.tip = feed::ChainTip{0, "", feed::GenesisHash()};
  state_.tree = feed::TreeDigest();
  state_.log_start = 0;
  state_.heartbeat.reset();
  return absl::OkStatus();
}

absl::Status Store::SyncWal() const {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  return FromRocks(db_->db->FlushWAL(/*sync=*/true), "Cannot sync the store's log");
}

absl::StatusOr<StoredFile> Store::GetFile(absl::string_view path) const {
  // Every file the gateway serves and every 404 start here: the error's
  // context is built only for an error.
  std::string value;
  const rocksdb::Status s =
      db_->db->Get(rocksdb::ReadOptions(), db_->files, ToSlice(path), &value);
  if (!s.ok()) return FromRocks(s, absl::StrCat("File ", path));
  return DecodeFile(value);
}

absl::StatusOr<std::string> Store::GetBlob(absl::string_view sha256,
                                           absl::optional<uint64_t> expected_size) const {
  return ReadWholeBlob(sha256, nullptr, expected_size);
}

absl::StatusOr<std::string> Store::ReadWholeBlob(absl::string_view sha256,
                                                 const rocksdb::Snapshot* snapshot,
                                                 absl::optional<uint64_t> expected_size) const {
  const std::string what = absl::StrCat("Blob ", base::HexEncode(sha256));
  absl::StatusOr<std::string> content = db_->Get(db_->blobs, sha256, what, snapshot);
  if (absl::IsNotFound(content.status())) {
    std::string chunks;
    for (uint64_t index = 0;; ++index) {
      absl::StatusOr<std::string> chunk =
          db_->Get(db_->blobs, ChunkKey(sha256, index), what, snapshot);
      if (absl::IsNotFound(chunk.status())) break;
      if (!chunk.ok()) return chunk.status();
      // Every chunk but the last is full: a short one with more after it
      // would be a hole.
      if (chunks.size() % kBlobChunk != 0) {
        return absl::DataLossError(absl::StrCat(what, " has a short chunk before chunk ", index));
      }
      chunks += *chunk;
    }
    if (chunks.empty()) return content.status();
    content = std::move(chunks);
  }
  if (!content.ok()) return content.status();
  if (expected_size.has_value() && content->size() != *expected_size) {
    return absl::DataLossError(absl::StrCat(what, " holds ", content->size(), " bytes, not the ",
                                            *expected_size, " of its file"));
  }
  return content;
}

absl::StatusOr<std::string> Store::ReadBlobRange(absl::string_view sha256, uint64_t offset,
                                                 size_t length) const {
  const std::string what = absl::StrCat("Blob ", base::HexEncode(sha256));
  std::string piece;
  while (piece.size() < length) {
    const uint64_t at = offset + piece.size();
    absl::StatusOr<std::string> chunk =
        db_->Get(db_->blobs, ChunkKey(sha256, at / kBlobChunk), what);
    if (absl::IsNotFound(chunk.status()) && piece.empty()) {
      // Small, or stored whole before chunking, or chunked and `offset` is
      // past its last chunk.
      absl::StatusOr<std::string> whole = db_->Get(db_->blobs, sha256, what);
      if (absl::IsNotFound(whole.status()) && at >= kBlobChunk &&
          db_->Get(db_->blobs, ChunkKey(sha256, 0), what).ok()) {
        return piece;
      }
      if (!whole.ok()) return whole.status();
      if (offset >= whole->size()) return piece;
      return whole->substr(offset, length);
    }
    if (absl::IsNotFound(chunk.status())) break;  // past the end
    if (!chunk.ok()) return chunk.status();
    const size_t skip = at % kBlobChunk;
    if (skip >= chunk->size()) break;
    if (piece.empty() && skip == 0 && chunk->size() <= length) {
      piece = *std::move(chunk);  // a whole chunk, the usual piece: no copy
      continue;
    }
    piece.append(*chunk, skip, length - piece.size());
  }
  return piece;
}

absl::Status Store::AttachContents(v1::Event* event) const {
  for (v1::Op& op : *event->mutable_ops()) {
    if (op.type() != v1::Op::PUT) continue;
    absl::StatusOr<std::string> blob = GetBlob(op.sha256(), op.size());
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
    const std::function<bool(absl::string_view path, const StoredFile&)>& visit,
    absl::string_view from) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->files));
  for (it->Seek(ToSlice(from)); it->Valid(); it->Next()) {
    absl::StatusOr<StoredFile> file = DecodeFile(ToView(it->value()));
    if (!file.ok()) return file.status();
    if (!visit(ToView(it->key()), *file)) break;
  }
  return FromRocks(it->status(), "Cannot list files");
}

absl::StatusOr<std::string> Store::GetMeta(absl::string_view key) const {
  return db_->Get(db_->meta, absl::StrCat(kExternalPrefix, key), absl::StrCat("Meta ", key));
}

absl::Status Store::PutMeta(absl::string_view key, absl::string_view value) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  return FromRocks(db_->db->Put(rocksdb::WriteOptions(), db_->meta,
                                absl::StrCat(kExternalPrefix, key), ToSlice(value)),
                   absl::StrCat("Cannot write meta ", key));
}

absl::StatusOr<std::string> Store::GetDerived(absl::string_view key) const {
  return db_->Get(db_->derived, key, absl::StrCat("Derived ", key));
}

absl::Status Store::WriteDerived(const std::vector<DerivedChange>& changes, uint64_t seq,
                                 bool clear_first) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  rocksdb::WriteBatch batch;
  if (clear_first) batch.DeleteRange(db_->derived, std::string(1, '\0'), std::string(4096, '\xff'));
  for (const auto& [key, value] : changes) {
    if (value.has_value()) {
      batch.Put(db_->derived, ToSlice(key), ToSlice(*value));
    } else {
      batch.Delete(db_->derived, ToSlice(key));
    }
  }
  batch.Put(db_->meta, kDerivedSeqKey, SeqKey(seq));
  rocksdb::WriteOptions options;
  options.sync = true;  // the search index commits after this, never ahead of it
  return FromRocks(db_->db->Write(options, &batch), "Cannot write derived documents");
}

uint64_t Store::DerivedSeq() const {
  absl::StatusOr<std::string> value = db_->Get(db_->meta, kDerivedSeqKey, "derived seq");
  return value.ok() ? DecodeU64(*value) : 0;
}

absl::StatusOr<feed::ChainTip> Store::Head() const { return Tip(); }

absl::StatusOr<std::vector<v1::Event>> Store::ReadAfter(uint64_t after_seq, size_t max_events,
                                                        size_t max_bytes,
                                                        bool include_content) const {
  const State state = CurrentState();
  if (after_seq < state.log_start) {
    return absl::FailedPreconditionError(
        absl::StrCat("This node's log starts after seq ", state.log_start,
                     " (it was bootstrapped from a snapshot); bootstrap from a snapshot too"));
  }
  std::vector<v1::Event> events;
  // Bound the scan by the tip read now, so an event being applied concurrently
  // is never returned before its meta says it is applied.
  const uint64_t head = state.tip.seq;
  size_t bytes = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->events));
  for (it->Seek(SeqKey(after_seq + 1)); it->Valid() && events.size() < max_events; it->Next()) {
    const uint64_t seq = DecodeU64(ToView(it->key()));
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
  absl::MutexLock lock(&mu_);
  auto above = [this, seq]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return state_.tip.seq > seq; };
  mu_.AwaitWithDeadline(absl::Condition(&above), deadline);
  return state_.tip.seq;
}

// The tree at the tip as one RocksDB snapshot shows it, walked by an iterator.
class Store::TreeSnapshot final : public feed::SnapshotReader {
 public:
  TreeSnapshot(const Store* store, const rocksdb::Snapshot* snapshot, v1::Event head)
      : store_(store), snapshot_(snapshot), head_(std::move(head)) {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    it_.reset(store_->db_->db->NewIterator(options, store_->db_->files));
    it_->SeekToFirst();
  }
  ~TreeSnapshot() override {
    it_.reset();
    store_->db_->db->ReleaseSnapshot(snapshot_);
  }

  const v1::Event& head() const override { return head_; }

  absl::optional<uint64_t> NextFileBytes() const override {
    if (!it_->Valid()) return absl::nullopt;
    absl::StatusOr<StoredFile> stored = DecodeFile(ToView(it_->value()));
    return stored.ok() ? stored->size : 0;
  }

  absl::StatusOr<std::vector<v1::Op>> Next(uint64_t max_bytes) override {
    std::vector<v1::Op> ops;
    uint64_t bytes = 0;
    for (; it_->Valid(); it_->Next()) {
      absl::StatusOr<StoredFile> stored = DecodeFile(ToView(it_->value()));
      if (!stored.ok()) return stored.status();
      if (!ops.empty() && bytes + stored->size > max_bytes) break;
      absl::StatusOr<std::string> content = store_->ReadWholeBlob(stored->sha256, snapshot_, stored->size);
      if (!content.ok()) return content.status();
      v1::Op op;
      op.set_type(v1::Op::PUT);
      op.set_path(std::string(ToView(it_->key())));
      op.set_sha256(stored->sha256);
      op.set_size(stored->size);
      op.set_media_type(stored->media_type);
      op.set_content(*std::move(content));
      bytes += stored->size;
      ops.push_back(std::move(op));
    }
    if (absl::Status s = FromRocks(it_->status(), "Cannot list files"); !s.ok()) return s;
    return ops;
  }

 private:
  const Store* const store_;
  const rocksdb::Snapshot* const snapshot_;
  const v1::Event head_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

absl::StatusOr<std::unique_ptr<feed::SnapshotReader>> Store::OpenSnapshot() const {
  // One RocksDB snapshot: the files are exactly those of the tip read with it.
  const rocksdb::Snapshot* snapshot = db_->db->GetSnapshot();
  auto fail = [&](absl::Status status) {
    db_->db->ReleaseSnapshot(snapshot);
    return status;
  };
  absl::StatusOr<std::string> seq = db_->Get(db_->meta, kAppliedSeqKey, "applied seq", snapshot);
  if (absl::IsNotFound(seq.status())) {
    return fail(absl::FailedPreconditionError("This node holds no events yet"));
  }
  if (!seq.ok()) return fail(seq.status());
  absl::StatusOr<std::string> record =
      db_->Get(db_->events, SeqKey(DecodeU64(*seq)), "head event", snapshot);
  if (!record.ok()) return fail(record.status());
  v1::Event event;
  if (!event.ParseFromString(*record)) {
    return fail(absl::DataLossError("Stored head does not parse"));
  }
  return std::unique_ptr<feed::SnapshotReader>(new TreeSnapshot(this, snapshot, std::move(event)));
}

}  // namespace pgxn::replica
