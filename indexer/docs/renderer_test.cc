#include "indexer/docs/renderer.h"

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "archive/archive.h"
#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

namespace v1 = ::pgxn::feed::v1;
using Json = nlohmann::json;

Json Meta(const std::string& name, const std::string& version) {
  return Json{{"name", name}, {"version", version}, {"abstract", "x"}};
}

std::string Zip(const std::string& name, const std::string& version, const std::string& readme) {
  archive::ArchiveEntry entry;
  entry.path = absl::StrCat(name, "-", version, "/README.md");
  entry.data = readme;
  entry.mode = 0644;
  absl::StatusOr<std::string> zip = archive::WriteZip({entry});
  EXPECT_TRUE(zip.ok()) << zip.status();
  return zip.ok() ? *zip : "";
}

// A tree in memory that counts what is read from it.
class FakeTree {
 public:
  void Put(const std::string& path, std::string content) { files_[path] = std::move(content); }
  ReadTreeFile Reader() {
    return [this](absl::string_view path) {
      ++reads_;
      auto it = files_.find(std::string(path));
      return it == files_.end() ? std::string() : it->second;
    };
  }
  int reads() const { return reads_; }

 private:
  std::map<std::string, std::string> files_;  // written before the renderer reads
  std::atomic<int> reads_{0};
};

// The release's README as rendered: the text of its only doc.
std::string ReadmeText(const ReleaseFiles& files) {
  return files.docs.size() == 1 ? files.docs[0].text : "";
}

v1::Op Put(const std::string& path, const std::string& content) {
  v1::Op op;
  op.set_type(v1::Op::PUT);
  op.set_path(path);
  op.set_content(content);
  return op;
}

TEST(ReleaseRendererTest, RendersFromTheTree) {
  FakeTree tree;
  tree.Put("dist/pair/0.1.0/pair-0.1.0.zip", Zip("pair", "0.1.0", "# Pair\n\nfrom the tree\n"));
  ReleaseRenderer renderer(tree.Reader());
  EXPECT_NE(ReadmeText(renderer.Render("dist/pair/0.1.0/", Meta("pair", "0.1.0"))).find("tree"),
            std::string::npos);
  // No zip, or no META: no docs, and no failure.
  EXPECT_TRUE(renderer.Render("dist/pair/0.2.0/", Meta("pair", "0.2.0")).docs.empty());
  EXPECT_TRUE(renderer.Render("dist/pair/0.1.0/", Json()).docs.empty());
}

TEST(ReleaseRendererTest, PrerenderedDocsAreTakenForTheirEventOnly) {
  FakeTree tree;
  tree.Put("dist/pair/0.1.0/pair-0.1.0.zip", Zip("pair", "0.1.0", "# Pair\n\nfrom the tree\n"));
  ReleaseRenderer renderer(tree.Reader());
  v1::Event event;
  event.set_seq(7);
  *event.add_ops() = Put("dist/pair/0.1.0/META.json", Meta("pair", "0.1.0").dump());
  *event.add_ops() =
      Put("dist/pair/0.1.0/pair-0.1.0.zip", Zip("pair", "0.1.0", "# Pair\n\nfrom the event\n"));
  renderer.Prerender(event);
  EXPECT_EQ(tree.reads(), 0) << "an event carries what its releases' docs need";

  // Another event's seq: rendered now, from the tree.
  EXPECT_NE(ReadmeText(renderer.TakePrerendered("dist/pair/0.1.0/", Meta("pair", "0.1.0"), 8))
                .find("from the tree"),
            std::string::npos);
  EXPECT_NE(ReadmeText(renderer.TakePrerendered("dist/pair/0.1.0/", Meta("pair", "0.1.0"), 7))
                .find("from the event"),
            std::string::npos);
  // Taken once only.
  EXPECT_NE(ReadmeText(renderer.TakePrerendered("dist/pair/0.1.0/", Meta("pair", "0.1.0"), 7))
                .find("from the tree"),
            std::string::npos);

  renderer.Prerender(event);
  renderer.ForgetPrerenderedUpTo(7);
  EXPECT_NE(ReadmeText(renderer.TakePrerendered("dist/pair/0.1.0/", Meta("pair", "0.1.0"), 7))
                .find("from the tree"),
            std::string::npos);
}

TEST(ReleaseRendererTest, RendersAheadInTheTakersOrder) {
  FakeTree tree;
  std::vector<std::string> metas;
  // More than the renderer keeps waiting, so that it must wait for takers.
  const int releases = static_cast<int>(ReleaseRenderer::kMaxWaiting) + 20;
  for (int i = 0; i < releases; ++i) {
    const std::string name = absl::StrCat("d", i);
    const std::string dir = absl::StrCat("dist/", name, "/1.0.0/");
    tree.Put(dir + "META.json", Meta(name, "1.0.0").dump());
    tree.Put(dir + name + "-1.0.0.zip", Zip(name, "1.0.0", absl::StrCat("# ", name, "\n\nn", i)));
    metas.push_back(dir + "META.json");
  }
  ReleaseRenderer renderer(tree.Reader());
  renderer.StartAhead(metas);
  for (int i = 0; i < releases; ++i) {
    const std::string name = absl::StrCat("d", i);
    const ReleaseFiles files =
        renderer.TakeAhead(absl::StrCat("dist/", name, "/1.0.0/"), Meta(name, "1.0.0"));
    EXPECT_NE(ReadmeText(files).find(absl::StrCat("n", i)), std::string::npos) << name;
  }
  // Once the list is done (or stopped), what is taken is rendered now.
  EXPECT_NE(ReadmeText(renderer.TakeAhead("dist/d3/1.0.0/", Meta("d3", "1.0.0"))).find("n3"),
            std::string::npos);
  renderer.StartAhead(metas);
  renderer.StopAhead();
  EXPECT_NE(ReadmeText(renderer.TakeAhead("dist/d5/1.0.0/", Meta("d5", "1.0.0"))).find("n5"),
            std::string::npos);
}

}  // namespace
}  // namespace pgxn::indexer
