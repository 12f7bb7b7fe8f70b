#include "feed/event_chain.h"

#include <functional>
#include <string>

#include "base/digest.h"
#include "feed/signing.h"
#include "feed/test_events.h"
#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

TEST(EventChainTest, SealedChainVerifies) {
  TestChain chain;
  ChainTip tip{0, "", GenesisHash()};
  for (int i = 0; i < 5; ++i) {
    v1::Event event = chain.Next({PutOp("dist/pair.json", std::to_string(i))});
    ASSERT_TRUE(VerifyEvent(event, tip, true, TestChain::Key().public_key).ok())
        << VerifyEvent(event, tip, true, TestChain::Key().public_key) << " at " << i;
    tip = TipAfter(event);
  }
  EXPECT_EQ(tip.seq, 5u);
  EXPECT_EQ(tip.hash, chain.tip().hash);
}

TEST(EventChainTest, FirstEventExtendsGenesis) {
  TestChain chain;
  v1::Event event = chain.Next({PutOp("index.json", "{}")});
  EXPECT_EQ(event.prev_hash(), GenesisHash());
  EXPECT_EQ(event.prev_hash().size(), base::kSha256Size);
}

TEST(EventChainTest, HashIgnoresContentAndSignature) {
  TestChain chain;
  v1::Event event = chain.Next({PutOp("a.json", "[1]")});
  v1::Event light = event;
  light.mutable_ops(0)->clear_content();
  light.set_signature("sig");
  EXPECT_EQ(ComputeEventHash(light), event.hash());
}

TEST(EventChainTest, EncodingIsUnambiguous) {
  // Moving a byte from one field to its neighbour must change the hash.
  TestChain a_chain, b_chain;
  v1::Event a = a_chain.Next({PutOp("x", "1")}, "release", "ab", "c");
  v1::Event b = b_chain.Next({PutOp("x", "1")}, "release", "a", "bc");
  EXPECT_NE(a.hash(), b.hash());
}

struct TamperCase {
  std::string name;
  std::function<void(v1::Event*)> tamper;
  absl::StatusCode code;
  std::string message_part;
};

TEST(EventChainTest, RefusesTamperedEvents) {
  const TamperCase cases[] = {
      {"content byte", [](v1::Event* e) { (*e->mutable_ops(0)->mutable_content())[0] ^= 1; },
       absl::StatusCode::kDataLoss, "does not match its sha256"},
      {"declared sha256", [](v1::Event* e) { (*e->mutable_ops(0)->mutable_sha256())[0] ^= 1; },
       absl::StatusCode::kDataLoss, "hash"},
      {"size", [](v1::Event* e) { e->mutable_ops(0)->set_size(99); }, absl::StatusCode::kDataLoss,
       "does not match its contents"},
      {"kind", [](v1::Event* e) { e->set_kind("user"); }, absl::StatusCode::kDataLoss,
       "does not match its contents"},
      {"unknown kind resealed",
       [](v1::Event* e) {
         e->set_kind("bogus");
         e->set_hash(ComputeEventHash(*e));
         SignEvent(TestChain::Key().secret_key, e);
       },
       absl::StatusCode::kInvalidArgument, "unknown kind"},
      {"signature", [](v1::Event* e) { (*e->mutable_signature())[0] ^= 1; },
       absl::StatusCode::kPermissionDenied, "not signed by the origin"},
      {"unsigned", [](v1::Event* e) { e->clear_signature(); }, absl::StatusCode::kPermissionDenied,
       "not signed by the origin"},
      {"seq gap", [](v1::Event* e) { e->set_seq(3); }, absl::StatusCode::kFailedPrecondition,
       "does not follow 1"},
      {"epoch", [](v1::Event* e) { e->set_epoch("other"); }, absl::StatusCode::kFailedPrecondition,
       "epoch other"},
      {"prev hash", [](v1::Event* e) { (*e->mutable_prev_hash())[0] ^= 1; },
       absl::StatusCode::kFailedPrecondition, "does not extend the chain"},
      {"missing content", [](v1::Event* e) { e->mutable_ops(0)->clear_content(); },
       absl::StatusCode::kInvalidArgument, "has no content"},
      {"path with dot-dot resealed",
       [](v1::Event* e) {
         e->mutable_ops(0)->set_path("dist/../../etc/passwd");
         e->set_hash(ComputeEventHash(*e));
         SignEvent(TestChain::Key().secret_key, e);
       },
       absl::StatusCode::kInvalidArgument, "segment"},
      {"absolute path resealed",
       [](v1::Event* e) {
         e->mutable_ops(0)->set_path("/etc/passwd");
         e->set_hash(ComputeEventHash(*e));
         SignEvent(TestChain::Key().secret_key, e);
       },
       absl::StatusCode::kInvalidArgument, "segment"},
      {"tree size", [](v1::Event* e) { e->set_tree_bytes(e->tree_bytes() + 1); },
       absl::StatusCode::kDataLoss, "does not match its contents"},
      {"tree file count", [](v1::Event* e) { e->set_tree_files(e->tree_files() - 1); },
       absl::StatusCode::kDataLoss, "does not match its contents"},
      {"tree size without a digest resealed",
       [](v1::Event* e) {
         e->clear_tree_digest();
         e->set_hash(ComputeEventHash(*e));
         SignEvent(TestChain::Key().secret_key, e);
       },
       absl::StatusCode::kInvalidArgument, "without a tree digest"},
      {"tag", [](v1::Event* e) { e->add_tags("injected"); }, absl::StatusCode::kDataLoss,
       "does not match its contents"},
      {"tags without a tree size resealed",
       [](v1::Event* e) {
         e->add_tags("pgtap");
         e->clear_tree_files();
         e->clear_tree_bytes();
         e->set_hash(ComputeEventHash(*e));
         SignEvent(TestChain::Key().secret_key, e);
       },
       absl::StatusCode::kInvalidArgument, "tags without the tree's size"},
      {"empty tag resealed",
       [](v1::Event* e) {
         e->add_tags("");
         e->set_hash(ComputeEventHash(*e));
         SignEvent(TestChain::Key().secret_key, e);
       },
       absl::StatusCode::kInvalidArgument, "a tag of 0 bytes"},
      {"duplicate path resealed",
       [](v1::Event* e) {
         *e->add_ops() = e->ops(0);
         e->set_hash(ComputeEventHash(*e));
         SignEvent(TestChain::Key().secret_key, e);
       },
       absl::StatusCode::kInvalidArgument, "twice"},
  };
  for (const TamperCase& c : cases) {
    TestChain chain;
    v1::Event first = chain.Next({PutOp("a.json", "first")});
    v1::Event second = chain.Next({PutOp("dist/pair.json", "{\"name\":\"pair\"}")});
    c.tamper(&second);
    absl::Status s =
        VerifyEvent(second, TipAfter(first), /*require_content=*/true, TestChain::Key().public_key);
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s;
    EXPECT_NE(s.message().find(c.message_part), absl::string_view::npos) << c.name << ": " << s;
  }
}

TEST(EventChainTest, TreeSizeIsHashedOnlyWhenStated) {
  TestChain chain;
  v1::Event event = chain.Next({PutOp("a.json", "content")});
  EXPECT_EQ(event.tree_files(), 1u);
  EXPECT_EQ(event.tree_bytes(), 7u);
  EXPECT_TRUE(HasTreeSize(event));
  // An event from before the fields existed keeps the hash it was signed with.
  v1::Event old = event;
  old.clear_tree_files();
  old.clear_tree_bytes();
  EXPECT_FALSE(HasTreeSize(old));
  EXPECT_NE(ComputeEventHash(old), event.hash());
  std::string encoding = CanonicalEncoding(event);
  EXPECT_EQ(CanonicalEncoding(old), encoding.substr(0, encoding.size() - 16));
}

TEST(EventChainTest, TagsAreHashedLastAndOnlyWhenNamed) {
  TestChain chain;
  v1::Event event = chain.Next({PutOp("a.json", "content")});
  const std::string without = CanonicalEncoding(event);
  event.add_tags("pgtap");
  event.add_tags("testing");
  const std::string with = CanonicalEncoding(event);
  // Events without tags keep the encoding (and hash) they had before tags.
  EXPECT_EQ(with.substr(0, without.size()), without);
  EXPECT_EQ(with.size(), without.size() + 8 + (8 + 5) + (8 + 7));
  v1::Event reordered = event;
  reordered.set_tags(0, "testing");
  reordered.set_tags(1, "pgtap");
  EXPECT_NE(ComputeEventHash(reordered), ComputeEventHash(event));
}

TEST(EventChainTest, LightEventsVerifyWithoutContent) {
  TestChain chain;
  v1::Event event = chain.Next({PutOp("a.json", "content")});
  event.mutable_ops(0)->clear_content();
  EXPECT_TRUE(
      VerifyEvent(event, ChainTip{0, "", GenesisHash()}, false, TestChain::Key().public_key).ok());
  EXPECT_FALSE(
      VerifyEvent(event, ChainTip{0, "", GenesisHash()}, true, TestChain::Key().public_key).ok());
}

TEST(EventChainTest, EmptyFilesVerify) {
  TestChain chain;
  v1::Event event = chain.Next({PutOp("empty.txt", "")});
  EXPECT_TRUE(
      VerifyEvent(event, ChainTip{0, "", GenesisHash()}, true, TestChain::Key().public_key).ok());
}

TEST(EventChainTest, TreePaths) {
  const struct {
    std::string path;
    bool ok;
  } cases[] = {
      {"dist/pair.json", true},
      {"tag/key value.json", true},
      {"index.json", true},
      {"", false},
      {"/dist/pair.json", false},
      {"dist//pair.json", false},
      {"dist/./pair.json", false},
      {"dist/../x", false},
      {"..", false},
      {"dist/pair.json/", false},
      {std::string("a\0b", 3), false},
      {"a\\b", false},
      {"a\nb", false},
      {std::string(2000, 'a'), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(CheckTreePath(c.path).ok(), c.ok) << "\"" << c.path << "\"";
  }
}

}  // namespace
}  // namespace pgxn::feed
