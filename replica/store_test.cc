#include "replica/store.h"

#include <string>
#include <thread>
#include <vector>

#include "base/digest.h"
#include "base/temp_dir.h"
#include "feed/signing.h"
#include "feed/test_events.h"
#include "feed/tree_digest.h"
#include "gtest/gtest.h"

namespace pgxn::replica {
namespace {

std::string Content(const Store& store, const std::string& path) {
  absl::StatusOr<StoredFile> file = store.GetFile(path);
  if (!file.ok()) return "<" + std::string(file.status().message()) + ">";
  absl::StatusOr<std::string> blob = store.GetBlob(file->sha256);
  return blob.ok() ? *blob : "<no blob>";
}

// A store that trusts feed::TestChain's key, as a node that pinned the origin's.
absl::StatusOr<std::unique_ptr<Store>> OpenPinned(const std::string& dir) {
  auto store = Store::Open(dir);
  if (store.ok()) {
    absl::Status s = (*store)->PinOriginKey(feed::TestChain::Key().public_key);
    if (!s.ok()) return s;
  }
  return store;
}

TEST(StoreTest, AppliesEventsAndServesFiles) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  feed::TestChain chain;
  v1::Event e1 = chain.Next({feed::PutOp("dist/pair.json", "v1"), feed::PutOp("index.json", "{}")});
  v1::Event e2 = chain.Next({feed::PutOp("dist/pair.json", "v2"), feed::DeleteOp("index.json")});
  ASSERT_TRUE((*store)->Apply(e1).ok());
  ASSERT_TRUE((*store)->Apply(e2).ok());
  EXPECT_EQ(Content(**store, "dist/pair.json"), "v2");
  EXPECT_TRUE(absl::IsNotFound((*store)->GetFile("index.json").status()));
  absl::StatusOr<StoredFile> file = (*store)->GetFile("dist/pair.json");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->seq, 2u);
  EXPECT_EQ(file->size, 2u);
  EXPECT_EQ(file->media_type, "application/json");
  EXPECT_EQ(file->time_us, e2.time_us());
  EXPECT_EQ((*store)->Tip().seq, 2u);
  EXPECT_EQ((*store)->Tip().hash, e2.hash());
}

TEST(StoreTest, LargeContentIsReadBackWholeAndInRanges) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  // Three chunks and a bit, each byte telling its offset.
  constexpr size_t kSize = 3 * 64 * 1024 + 100;
  std::string big(kSize, '\0');
  for (size_t i = 0; i < kSize; ++i) big[i] = static_cast<char>(i * 7 % 251);
  feed::TestChain chain;
  ASSERT_TRUE((*store)->Apply(chain.Next({feed::PutOp("dist/big.zip", big),
                                          feed::PutOp("small.txt", "tiny")}))
                  .ok());
  EXPECT_EQ(Content(**store, "dist/big.zip"), big);
  const std::string sha = base::Sha256(big);
  const struct {
    uint64_t offset;
    size_t length;
  } kRanges[] = {{0, 10},         {65530, 12},       {65536, 65536}, {100, 3 * 65536},
                 {kSize - 5, 64}, {kSize, 10},       {kSize + 9, 1}, {131072, 0},
                 {5 * 65536, 10}};
  for (const auto& range : kRanges) {
    absl::StatusOr<std::string> piece = (*store)->ReadBlobRange(sha, range.offset, range.length);
    ASSERT_TRUE(piece.ok()) << range.offset << ": " << piece.status();
    const std::string expected =
        range.offset >= kSize ? "" : big.substr(range.offset, range.length);
    EXPECT_EQ(*piece, expected) << "offset " << range.offset << " length " << range.length;
  }
  absl::StatusOr<std::string> small = (*store)->ReadBlobRange(base::Sha256("tiny"), 1, 10);
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(*small, "iny");
  EXPECT_TRUE(
      absl::IsNotFound((*store)->ReadBlobRange(base::Sha256("absent"), 0, 10).status()));
  // A snapshot carries the large file whole.
  std::string snapshot_content;
  auto snapshot = (*store)->OpenSnapshot();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  while (true) {
    absl::StatusOr<std::vector<v1::Op>> files = (*snapshot)->Next(1 << 20);
    ASSERT_TRUE(files.ok()) << files.status();
    if (files->empty()) break;
    for (const v1::Op& op : *files) {
      if (op.path() == "dist/big.zip") snapshot_content = op.content();
    }
  }
  EXPECT_EQ(snapshot_content, big);
  // Whole reads check the size the caller knows the file has.
  absl::StatusOr<std::string> sized = (*store)->GetBlob(sha, kSize);
  ASSERT_TRUE(sized.ok()) << sized.status();
  EXPECT_EQ(sized->size(), kSize);
  EXPECT_TRUE(absl::IsDataLoss((*store)->GetBlob(sha, kSize + 1).status()));
  EXPECT_TRUE(absl::IsDataLoss((*store)->GetBlob(sha, 64 * 1024).status()));
  EXPECT_TRUE(absl::IsDataLoss((*store)->GetBlob(base::Sha256("tiny"), 5).status()));
}

TEST(StoreTest, ApplyingAnEventTwiceChangesNothing) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain;
  v1::Event e1 = chain.Next({feed::PutOp("dist/pair.json", "v1")});
  v1::Event e2 = chain.Next({feed::PutOp("dist/pair.json", "v2")});
  ASSERT_TRUE((*store)->Apply(e1).ok());
  ASSERT_TRUE((*store)->Apply(e2).ok());
  for (const v1::Event& replay : {e1, e2}) {
    absl::StatusOr<bool> again = (*store)->Apply(replay);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(*again) << "seq " << replay.seq();
  }
  EXPECT_EQ(Content(**store, "dist/pair.json"), "v2");
  EXPECT_EQ((*store)->Tip().seq, 2u);
}

TEST(StoreTest, ReplayThatDiffersFromTheAppliedEventIsAFork) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain, fork;
  ASSERT_TRUE((*store)->Apply(chain.Next({feed::PutOp("a", "1")})).ok());
  absl::StatusOr<bool> forked = (*store)->Apply(fork.Next({feed::PutOp("a", "other")}));
  EXPECT_EQ(forked.status().code(), absl::StatusCode::kFailedPrecondition) << forked.status();
}

TEST(StoreTest, RefusesAFileWhoseHashDoesNotMatch) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain;
  v1::Event event =
      chain.Next({feed::PutOp("dist/pair.json", "good"), feed::PutOp("b.json", "other")});
  event.mutable_ops(1)->set_content("evil!");  // same size, different bytes
  absl::StatusOr<bool> applied = (*store)->Apply(event);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kDataLoss) << applied.status();
  // Refused whole: not even the good file of the same event is there.
  EXPECT_TRUE(absl::IsNotFound((*store)->GetFile("dist/pair.json").status()));
  EXPECT_EQ((*store)->Tip().seq, 0u);
}

TEST(StoreTest, RefusesAGap) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain;
  chain.Next({feed::PutOp("a", "1")});
  absl::StatusOr<bool> applied = (*store)->Apply(chain.Next({feed::PutOp("a", "2")}));
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition) << applied.status();
}

TEST(StoreTest, ReopenKeepsTipAndFiles) {
  base::TempDir dir;
  feed::TestChain chain;
  {
    auto store = OpenPinned(dir.path());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Apply(chain.Next({feed::PutOp("a", "1")})).ok());
    ASSERT_TRUE((*store)->Apply(chain.Next({feed::PutOp("a", "2")})).ok());
    ASSERT_TRUE((*store)->PutMeta("index_seq", "7").ok());
  }
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Tip().seq, 2u);
  EXPECT_EQ((*store)->Tip().epoch, chain.tip().epoch);
  EXPECT_EQ((*store)->Tip().hash, chain.tip().hash);
  EXPECT_EQ(Content(**store, "a"), "2");
  EXPECT_EQ(*(*store)->GetMeta("index_seq"), "7");
  EXPECT_TRUE(absl::IsNotFound((*store)->GetMeta("applied_seq").status()));
  EXPECT_TRUE((*store)->Apply(chain.Next({feed::PutOp("a", "3")})).ok());
}

TEST(StoreTest, ReadAfterReattachesContentsAndBatches) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain;
  std::vector<v1::Event> sent;
  for (int i = 1; i <= 10; ++i) {
    sent.push_back(chain.Next({feed::PutOp("f" + std::to_string(i), std::string(100, 'a' + i))}));
    ASSERT_TRUE((*store)->Apply(sent.back()).ok());
  }
  auto all = (*store)->ReadAfter(0, 100, 1 << 20, true);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 10u);
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].SerializeAsString(), sent[i].SerializeAsString()) << "seq " << i + 1;
  }
  auto some = (*store)->ReadAfter(3, 4, 1 << 20, false);
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 4u);
  EXPECT_EQ((*some)[0].seq(), 4u);
  EXPECT_TRUE((*some)[0].ops(0).content().empty());
  EXPECT_EQ((*some)[0].ops(0).size(), 100u);
  auto by_bytes = (*store)->ReadAfter(0, 100, 200, true);
  ASSERT_TRUE(by_bytes.ok());
  EXPECT_EQ(by_bytes->size(), 2u);  // stops once 200 bytes of content are reached
  auto none = (*store)->ReadAfter(10, 100, 1 << 20, true);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(StoreTest, WaitForHeadAboveWakesOnApply) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain;
  v1::Event event = chain.Next({feed::PutOp("a", "1")});
  EXPECT_EQ((*store)->WaitForHeadAbove(0, absl::Now() + absl::Milliseconds(10)), 0u);
  std::thread applier([&] { ASSERT_TRUE((*store)->Apply(event).ok()); });
  EXPECT_EQ((*store)->WaitForHeadAbove(0, absl::InfiniteFuture()), 1u);
  applier.join();
}

TEST(StoreTest, ForEachFileListsInPathOrder) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain;
  ASSERT_TRUE((*store)
                  ->Apply(chain.Next(
                      {feed::PutOp("b", "2"), feed::PutOp("a", "1"), feed::PutOp("c/d", "3")}))
                  .ok());
  std::vector<std::string> paths;
  ASSERT_TRUE((*store)
                  ->ForEachFile([&](absl::string_view path, const StoredFile&) {
                    paths.emplace_back(path);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(paths, (std::vector<std::string>{"a", "b", "c/d"}));
}

TEST(StoreTest, RefusesEventsUntilAKeyIsPinnedAndKeepsThePinnedKey) {
  base::TempDir dir;
  auto store = Store::Open(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain;
  v1::Event event = chain.Next({feed::PutOp("a", "1")});
  EXPECT_TRUE(absl::IsFailedPrecondition((*store)->Apply(event).status()));
  ASSERT_TRUE((*store)->PinOriginKey(feed::TestChain::Key().public_key).ok());
  EXPECT_TRUE((*store)->PinOriginKey(feed::TestChain::Key().public_key).ok()) << "same key again";
  EXPECT_TRUE(
      absl::IsFailedPrecondition((*store)->PinOriginKey(feed::GenerateKeyPair().public_key)));
  EXPECT_TRUE((*store)->Apply(event).ok());
}

TEST(StoreTest, RefusesAnEventWhoseTreeDigestDoesNotMatch) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain;
  ASSERT_TRUE((*store)->Apply(chain.Next({feed::PutOp("a", "1")})).ok());
  // Signed by the origin, but the origin's tree differs from this node's
  // (e.g. the node's store was damaged): the node must notice, not diverge.
  v1::Event event = chain.Next({feed::PutOp("b", "2")});
  event.set_tree_digest(base::Sha256("some other tree"));
  event.set_hash(feed::ComputeEventHash(event));
  feed::SignEvent(feed::TestChain::Key().secret_key, &event);
  absl::StatusOr<bool> applied = (*store)->Apply(event);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kDataLoss) << applied.status();
  EXPECT_TRUE(absl::IsNotFound((*store)->GetFile("b").status()));
}

TEST(StoreTest, DerivedDocumentsAreWrittenWithTheirSeq) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->DerivedSeq(), 0u);
  ASSERT_TRUE(
      (*store)->WriteDerived({{"a", std::string("1")}, {"b", std::string("2")}}, 7, false).ok());
  ASSERT_TRUE(
      (*store)->WriteDerived({{"a", absl::nullopt}, {"c", std::string("3")}}, 8, false).ok());
  EXPECT_TRUE(absl::IsNotFound((*store)->GetDerived("a").status()));
  EXPECT_EQ(*(*store)->GetDerived("b"), "2");
  EXPECT_EQ((*store)->DerivedSeq(), 8u);
  // Starting over: everything before is gone, in the same batch.
  ASSERT_TRUE((*store)->WriteDerived({{"d", std::string("4")}}, 9, /*clear_first=*/true).ok());
  EXPECT_TRUE(absl::IsNotFound((*store)->GetDerived("b").status()));
  EXPECT_EQ(*(*store)->GetDerived("d"), "4");
}

TEST(StoreTest, ClearForgetsTheLogButKeepsTheKey) {
  base::TempDir dir;
  auto store = OpenPinned(dir.path());
  ASSERT_TRUE(store.ok());
  feed::TestChain chain;
  ASSERT_TRUE((*store)->Apply(chain.Next({feed::PutOp("a", "1")})).ok());
  ASSERT_TRUE((*store)->WriteDerived({{"dist/a.json", std::string("{}")}}, 1, false).ok());
  ASSERT_EQ((*store)->DerivedSeq(), 1u);
  ASSERT_TRUE((*store)->Clear().ok());
  EXPECT_EQ((*store)->Tip().seq, 0u);
  // Documents derived from the old tree go with it.
  EXPECT_TRUE(absl::IsNotFound((*store)->GetDerived("dist/a.json").status()));
  EXPECT_EQ((*store)->DerivedSeq(), 0u);
  EXPECT_TRUE(absl::IsNotFound((*store)->GetFile("a").status()));
  EXPECT_EQ((*store)->TreeDigestNow(), feed::TreeDigest().Digest());
  EXPECT_EQ((*store)->OriginKey(), feed::TestChain::Key().public_key);
  feed::TestChain fresh("ffff");
  EXPECT_TRUE((*store)->Apply(fresh.Next({feed::PutOp("b", "2")})).ok());
}

TEST(StoreTest, AReaderShowsWhatTheNodeWroteWhenItCatchesUp) {
  base::TempDir dir;
  const std::string data = dir.path() + "/data";
  auto node = OpenPinned(data);
  ASSERT_TRUE(node.ok()) << node.status();
  feed::TestChain chain;
  ASSERT_TRUE((*node)->Apply(chain.Next({feed::PutOp("a.json", "1")})).ok());

  auto reader = Store::OpenReadOnly(data);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE((*reader)->read_only());
  EXPECT_EQ((*reader)->Tip().seq, 1u);
  EXPECT_EQ(Content(**reader, "a.json"), "1");

  const std::string big(3 * Store::kBlobChunkBytes + 5, 'z');
  v1::Event second = chain.Next({feed::PutOp("a.json", "2"), feed::PutOp("big.zip", big)});
  ASSERT_TRUE((*node)->Apply(second).ok());
  // Unchanged until it catches up.
  EXPECT_EQ((*reader)->Tip().seq, 1u);
  EXPECT_EQ(Content(**reader, "a.json"), "1");
  const uint64_t version = (*reader)->FilesVersion();
  ASSERT_TRUE((*reader)->CatchUpWithNode().ok());
  EXPECT_NE((*reader)->FilesVersion(), version);
  EXPECT_EQ((*reader)->Tip().seq, 2u);
  EXPECT_EQ((*reader)->Tip().hash, second.hash());
  EXPECT_EQ((*reader)->TreeDigestNow(), (*node)->TreeDigestNow());
  EXPECT_EQ(Content(**reader, "a.json"), "2");
  EXPECT_EQ(Content(**reader, "big.zip"), big);
  absl::StatusOr<std::vector<v1::Event>> events = (*reader)->ReadAfter(0, 10, 1 << 30, false);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 2u);
}

TEST(StoreTest, AReaderRefusesEveryWrite) {
  base::TempDir dir;
  const std::string data = dir.path() + "/data";
  feed::TestChain chain;
  {
    auto node = OpenPinned(data);
    ASSERT_TRUE(node.ok()) << node.status();
    ASSERT_TRUE((*node)->Apply(chain.Next({feed::PutOp("a", "1")})).ok());
  }
  // The node is stopped: a reader reads it all the same.
  auto reader = Store::OpenReadOnly(data);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(Content(**reader, "a"), "1");
  const std::string refused = "This store is open to read only";
  EXPECT_EQ((*reader)->Apply(chain.Next({feed::PutOp("a", "2")})).status(),
            absl::FailedPreconditionError(refused));
  EXPECT_EQ((*reader)->PutMeta("k", "v"), absl::FailedPreconditionError(refused));
  EXPECT_EQ((*reader)->WriteDerived({}, 1, false), absl::FailedPreconditionError(refused));
  EXPECT_EQ((*reader)->Clear(), absl::FailedPreconditionError(refused));
  EXPECT_EQ((*reader)->PinOriginKey(feed::TestChain::Key().public_key),
            absl::FailedPreconditionError(refused));
  EXPECT_EQ(Content(**reader, "a"), "1");
  // The node's store is as it was.
  auto node = OpenPinned(data);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ((*node)->Tip().seq, 1u);
  EXPECT_TRUE(absl::IsFailedPrecondition((*node)->CatchUpWithNode()));
}

TEST(StoreTest, AReaderOfNoStoreIsNotFound) {
  base::TempDir dir;
  auto reader = Store::OpenReadOnly(dir.path() + "/none");
  EXPECT_EQ(reader.status(), absl::NotFoundError("No store in " + dir.path() + "/none"));
}

}  // namespace
}  // namespace pgxn::replica
