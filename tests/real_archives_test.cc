// Archives made the way extension authors make them, through a real network:
// an origin on embedded Postgres, a mirror following it and an indexer
// following the mirror, all on port 0 in a temp dir. The test builds a
// pure-SQL extension, linkdoc, whose README.md is a symbolic link to its doc
// (and doc/guide.md a link to that link), with an image, a license and docs in
// every markup PGXN renders; it releases it as `git archive` exports it from a
// repository (1.0.0) and as `zip -r -y` packs its directory (1.0.1), both made
// here by the real tools, and uploads them with curl as pgxn-release does.
// Then: the upload contract, the mirror's zip (byte for byte), SHA-1 and
// README.txt, the indexer's doc pages (PGXN's ids, GitHub's anchors, links
// and images under /src/, the converted markups), the enriched JSON's
// special files, /src/'s listings of links, and the stock pgxn client
// downloading and installing it with Debian's pg_config. Archives with links
// that escape, are absolute, dangle or loop are refused with 409 naming the
// entry, and publish nothing (docs/pgxn.md §3 "Release processing", §5).
//
// The whole binary is one ctest test: the network starts and the releases are
// made and published once, for every case.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/algorithm/container.h"
#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr char kUser[] = "author";
constexpr char kPassword[] = "an author's long password";
// Debian's PostgreSQL 15 (postgresql-15, which ops/lib/deps.sh installs).
constexpr char kPgConfig[] = "/usr/lib/postgresql/15/bin/pg_config";

// A 1x1 transparent GIF: a real image, so that its media type and bytes can be
// checked as a browser showing the doc would fetch them.
const std::string& LogoGif() {
  static const auto* const gif = new std::string(
      "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"
      "\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;",
      43);
  return *gif;
}

// ---------------------------------------------------------------------------
// The distributions, as an author's working tree

// One entry of a working tree: a file with `content`, or, when `link` is not
// empty, a symbolic link to `link`.
struct TreeEntry {
  std::string path;
  std::string content;
  std::string link;
};

std::string LinkdocDoc(const std::string& version) {
  return absl::StrCat("linkdoc ", version, "\n", std::string(8 + version.size(), '='), R"md(

linkdoc is a pure-SQL extension whose README is a symbolic link to this file.
Read [the guide](guide.md), then [see](#binary-quantization) how vectors
become bits. It is released under [the PostgreSQL License](../LICENSE).

![logo](../img/logo.gif)

Synopsis
--------

```sql
SELECT linkdoc_version();
```

Options
-------

| Option | Meaning         |
|--------|-----------------|
| `fast` | skip the checks |
| `safe` | run each check  |

## Binary Quantization

Each dimension of a vector becomes one bit: its sign.

Copyright and License
---------------------

Copyright (c) 2024 The linkdoc authors.
)md");
}

// The docs in other markups: each with two headings or more, code, a table
// and a relative link, as their authors write them.
constexpr char kIntroRst[] = R"rst(Introduction
============

linkdoc keeps its docs in many markups; this one is reStructuredText. Its
license is in `the LICENSE file <../LICENSE>`_.

Usage
-----

Call it::

    SELECT linkdoc_version();

Options
-------

======  ===============
Option  Meaning
======  ===============
fast    skip the checks
safe    run each check
======  ===============
)rst";

constexpr char kHowtoAdoc[] = R"adoc(= How To Use linkdoc

linkdoc in AsciiDoc. The license is in link:../LICENSE[the LICENSE file].

== Install

[source,sql]
----
SELECT linkdoc_version();
----

== Options

|===
| Option | Meaning

| fast
| skip the checks

| safe
| run each check
|===
)adoc";

constexpr char kApiPod[] = R"pod(=pod

=head1 NAME

linkdoc - the API, in POD

=head1 SYNOPSIS

  SELECT linkdoc_version();

=head1 OPTIONS

=begin html

<table><tr><th>Option</th><th>Meaning</th></tr><tr><td>fast</td><td>skip the checks</td></tr></table>

=end html

See L<the license|../LICENSE>.

=head2 Binary Quantization

Each dimension of a vector becomes one bit.

=cut
)pod";

constexpr char kNotesTextile[] = R"textile(h1. Notes

linkdoc in Textile. The license is in "the LICENSE file":../LICENSE.

h2. Code

bc. SELECT linkdoc_version();

h2. Options

|_. Option |_. Meaning |
| fast | skip the checks |
| safe | run each check |
)textile";

constexpr char kWikiMediawiki[] = R"wiki(= Wiki =

linkdoc in MediaWiki markup. The license is in [[../LICENSE|the LICENSE file]].

== Code ==

<syntaxhighlight lang="sql">
SELECT linkdoc_version();
</syntaxhighlight>

== Options ==

{| class="wikitable"
! Option !! Meaning
|-
| fast || skip the checks
|-
| safe || run each check
|}
)wiki";

constexpr char kExtraMmd[] = R"mmd(# Extra

linkdoc in MultiMarkdown. The license is in [the LICENSE file](../LICENSE).

## Code

```sql
SELECT linkdoc_version();
```

## Options

| Option | Meaning         |
|--------|-----------------|
| fast   | skip the checks |
| safe   | run each check  |
)mmd";

constexpr char kLicense[] =
    "Copyright (c) 2024, The linkdoc authors\n\n"
    "Permission to use, copy, modify, and distribute this software and its documentation for any\n"
    "purpose, without fee, and without a written agreement is hereby granted.\n";

Json LinkdocMeta(const std::string& version) {
  return Json{
      {"name", "linkdoc"},
      {"abstract", "Docs as symbolic links"},
      {"description", "A pure-SQL extension whose README is a symbolic link to its doc."},
      {"version", version},
      {"maintainer", {"The linkdoc authors <linkdoc@example.org>"}},
      {"license", "postgresql"},
      {"provides",
       {{"linkdoc",
         {{"abstract", "Docs as symbolic links"},
          {"file", "sql/linkdoc--" + version + ".sql"},
          {"docfile", "doc/linkdoc.md"},
          {"version", version}}}}},
      {"prereqs", {{"runtime", {{"requires", {{"PostgreSQL", "10.0.0"}}}}}}},
      {"resources",
       {{"repository",
         {{"url", "https://example.org/linkdoc.git"},
          {"web", "https://example.org/linkdoc/"},
          {"type", "git"}}}}},
      {"generated_by", "The linkdoc authors"},
      {"tags", {"documentation", "symlinks"}},
      {"meta-spec", {{"version", "1.0.0"}, {"url", "https://pgxn.org/meta/spec.txt"}}},
  };
}

std::string ControlFile(const std::string& version) {
  return absl::StrCat("# linkdoc extension\ncomment = 'Docs as symbolic links'\n",
                      "default_version = '", version, "'\nrelocatable = true\n");
}

// The good distribution's working tree at `version`.
std::vector<TreeEntry> LinkdocTree(const std::string& version) {
  const std::string sql = "sql/linkdoc--" + version + ".sql";
  return {
      {"META.json", LinkdocMeta(version).dump(4) + "\n", ""},
      {"Makefile",
       absl::StrCat("EXTENSION = linkdoc\nDATA = ", sql,
                    "\n\nPG_CONFIG ?= pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\n"
                    "include $(PGXS)\n"),
       ""},
      {"linkdoc.control", ControlFile(version), ""},
      {sql,
       absl::StrCat("\\echo Use \"CREATE EXTENSION linkdoc\" to load this file. \\quit\n",
                    "CREATE FUNCTION linkdoc_version() RETURNS text LANGUAGE sql IMMUTABLE\n",
                    "AS $$ SELECT '", version, "'::text $$;\n"),
       ""},
      {"doc/linkdoc.md", LinkdocDoc(version), ""},
      {"README.md", "", "doc/linkdoc.md"},
      {"doc/guide.md", "", "../README.md"},  // a link to a link
      {"CHANGELOG.md", absl::StrCat("# Changes\n\n## ", version, "\n\n- Released.\n"), ""},
      {"LICENSE", kLicense, ""},
      {"img/logo.gif", LogoGif(), ""},
      {"doc/intro.rst", kIntroRst, ""},
      {"doc/howto.adoc", kHowtoAdoc, ""},
      {"doc/api.pod", kApiPod, ""},
      {"doc/notes.textile", kNotesTextile, ""},
      {"doc/wiki.mediawiki", kWikiMediawiki, ""},
      {"doc/extra.mmd", kExtraMmd, ""},
  };
}

// A small distribution `name` 1.0.0 with a bad link added to it.
std::vector<TreeEntry> BadTree(const std::string& name, const std::vector<TreeEntry>& links) {
  Json meta = MakeMeta(name, "1.0.0", "A distribution with a bad link");
  std::vector<TreeEntry> tree = {
      {"META.json", meta.dump(4) + "\n", ""},
      {"Makefile", "EXTENSION = " + name + "\n", ""},
      {"sql/" + name + ".sql", "SELECT 1;\n", ""},
      {"doc/" + name + ".md", name + "\n" + std::string(name.size(), '=') + "\n", ""},
  };
  tree.insert(tree.end(), links.begin(), links.end());
  return tree;
}

// Writes `tree` under `root` (created), links as links.
absl::Status WriteTree(const fs::path& root, const std::vector<TreeEntry>& tree) {
  std::error_code error;
  fs::create_directories(root, error);
  for (const TreeEntry& entry : tree) {
    const fs::path path = root / entry.path;
    fs::create_directories(path.parent_path(), error);
    if (error) return absl::InternalError(absl::StrCat(path.string(), ": ", error.message()));
    if (entry.link.empty()) {
      WriteWholeFile(path.string(), entry.content);
      if (ReadWholeFile(path.string()) != entry.content) {
        return absl::InternalError("cannot write " + path.string());
      }
    } else {
      fs::create_symlink(entry.link, path, error);
      if (error) return absl::InternalError(absl::StrCat(path.string(), ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status Run(const std::vector<std::string>& argv) {
  RunResult run = RunProgram(argv);
  if (run.exit_code == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("`", absl::StrJoin(argv, " "), "` exited with ",
                                          run.exit_code, ": ", run.output));
}

// `tree` committed to a new git repository, `work`/TOP.git, and exported by
// `git archive --format=zip --prefix=TOP/ HEAD`, as pgxn-tools' pgxn-bundle
// and many extensions' `make dist` make their releases. git keeps the links.
absl::StatusOr<std::string> GitArchive(const std::string& work, const std::string& top,
                                       const std::vector<TreeEntry>& tree) {
  const std::string repo = work + "/" + top + ".git";
  const std::string zip = work + "/" + top + ".git.zip";
  if (absl::Status s = WriteTree(repo, tree); !s.ok()) return s;
  // No configuration of the machine's may change what is exported (a
  // default branch, autocrlf, a signing key): every setting that matters is
  // given on each command line.
  const std::vector<std::string> settings = {"init.defaultBranch=main",  "core.autocrlf=false",
                                             "core.symlinks=true",       "user.name=t",
                                             "user.email=t@example.org", "commit.gpgsign=false"};
  auto with = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"git", "-C", repo};
    for (const std::string& setting : settings) argv.insert(argv.end(), {"-c", setting});
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  for (const std::vector<std::string>& argv :
       {with({"init", "-q"}), with({"add", "-A"}),
        with({"commit", "-q", "--no-verify", "-m", "Release " + top}),
        with({"archive", "--format=zip", "--prefix=" + top + "/", "HEAD", "-o", zip})}) {
    if (absl::Status s = Run(argv); !s.ok()) return s;
  }
  std::string bytes = ReadWholeFile(zip);
  if (bytes.empty()) return absl::InternalError("git archive wrote nothing to " + zip);
  return bytes;
}

// `tree` under `work`/TOP packed by `zip -r -y X.zip TOP` run in `work`: links
// stored as links, as authors zip a checkout by hand.
absl::StatusOr<std::string> ZipDirectory(const std::string& work, const std::string& top,
                                         const std::vector<TreeEntry>& tree) {
  const std::string zip = work + "/" + top + ".zip";
  if (absl::Status s = WriteTree(work + "/" + top, tree); !s.ok()) return s;
  // zip names entries as given on its command line, so it runs where TOP is.
  if (absl::Status s = Run({"env", "-C", work, "zip", "-q", "-r", "-y", zip, top}); !s.ok()) {
    return s;
  }
  std::string bytes = ReadWholeFile(zip);
  if (bytes.empty()) return absl::InternalError("zip wrote nothing to " + zip);
  return bytes;
}

// Those of `programs` that are not installed, comma-separated ("" if none).
std::string Missing(const std::vector<std::string>& programs) {
  std::vector<std::string> missing;
  for (const std::string& program : programs) {
    if (RunProgram({"sh", "-c", "command -v \"$0\" >/dev/null", program}).exit_code != 0) {
      missing.push_back(program);
    }
  }
  return absl::StrJoin(missing, ", ");
}

// ---------------------------------------------------------------------------
// The fixture: origin, mirror and indexer, the releases published once.

struct BadCase {
  std::string name;  // the dist
  std::vector<TreeEntry> links;
  std::vector<std::string> messages;  // the body must contain one of these
};

class RealArchivesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    if (const std::string missing = Missing({"git", "zip", "curl"}); !missing.empty()) {
      skip_ = "the tools authors make archives with are not installed (" + missing +
              "): apt-get install git zip curl";
      return;
    }
    const std::string origin_dir = dir_->path() + "/origin";
    if (!AddUser(origin_dir, kUser, kPassword)) {
      setup_error_ = "pgxnd user add failed";
      return;
    }
    Chain chain = StartChain(dir_->path());
    origin_ = chain.origin.release();
    mirror_ = chain.mirror.release();
    indexer_ = chain.indexer.release();
    if (indexer_ == nullptr) return;

    const std::string work = dir_->path() + "/work";
    fs::create_directories(work);
    absl::StatusOr<std::string> git = GitArchive(work, "linkdoc-1.0.0", LinkdocTree("1.0.0"));
    if (!git.ok()) {
      setup_error_ = git.status().ToString();
      return;
    }
    git_zip_ = *git;
    absl::StatusOr<std::string> zipped = ZipDirectory(work, "linkdoc-1.0.1", LinkdocTree("1.0.1"));
    if (!zipped.ok()) {
      setup_error_ = zipped.status().ToString();
      return;
    }
    dir_zip_ = *zipped;
    for (const auto& [filename, zip] : {std::make_pair("linkdoc-1.0.0.zip", &git_zip_),
                                        std::make_pair("linkdoc-1.0.1.zip", &dir_zip_)}) {
      uploads_.push_back(Upload(*zip, filename));
    }
    WaitForNodes();
  }

  static void TearDownTestSuite() {
    delete indexer_;
    delete mirror_;
    delete origin_;
    delete dir_;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    ASSERT_NE(origin_, nullptr);
    ASSERT_NE(mirror_, nullptr);
    ASSERT_NE(indexer_, nullptr);
  }

  // Exactly pgxn-release's curl command (UploadWithCurl).
  static UploadResult Upload(const std::string& zip, const std::string& filename) {
    const std::string uploads = dir_->path() + "/uploads";
    fs::create_directories(uploads);
    return UploadWithCurl(origin_->url(), kUser, kPassword, zip, filename, uploads);
  }

  // Until the mirror and the indexer have applied every event the origin
  // made: the indexer's applied seq covers its API documents and pages.
  static void WaitForNodes() {
    const uint64_t head = origin_->AppliedSeq();
    for (const Node* node : {mirror_, indexer_}) {
      if (!node->WaitForSeq(head)) {
        setup_error_ = absl::StrCat(node->dir(), " stuck at ", node->AppliedSeq(), " of ", head,
                                    "\n", node->Log());
        return;
      }
    }
  }

  static HttpResult FromIndexer(const std::string& path,
                                const std::vector<std::string>& headers = {}) {
    return HttpGet(indexer_->url() + path, headers);
  }

  // The stock client against the mirror: `pgxn CMD --mirror URL/ ARGS...`.
  static RunResult Pgxn(std::vector<std::string> args) {
    return RunPgxnClient(mirror_->url(), std::move(args));
  }

  static base::TempDir* dir_;
  static Node* origin_;
  static Node* mirror_;
  static Node* indexer_;
  static std::string skip_;
  static std::string setup_error_;
  static std::string git_zip_;  // linkdoc 1.0.0, from git archive
  static std::string dir_zip_;  // linkdoc 1.0.1, from zip -r -y
  static std::vector<UploadResult> uploads_;
};

base::TempDir* RealArchivesTest::dir_ = nullptr;
Node* RealArchivesTest::origin_ = nullptr;
Node* RealArchivesTest::mirror_ = nullptr;
Node* RealArchivesTest::indexer_ = nullptr;
std::string RealArchivesTest::skip_;
std::string RealArchivesTest::setup_error_;
std::string RealArchivesTest::git_zip_;
std::string RealArchivesTest::dir_zip_;
std::vector<UploadResult> RealArchivesTest::uploads_;

// The two releases and the archives they were uploaded as.
struct Made {
  std::string version;
  const std::string* zip;
  std::string how;
};

// ---------------------------------------------------------------------------
// 1. The archives are taken and mirrored as uploaded

TEST_F(RealArchivesTest, ArchivesWithLinksAreAcceptedAndMirroredAsUploaded) {
  ASSERT_EQ(uploads_.size(), 2u);
  const Made made[] = {{"1.0.0", &git_zip_, "git archive"}, {"1.0.1", &dir_zip_, "zip -r -y"}};
  for (size_t i = 0; i < 2; ++i) {
    const Made& m = made[i];
    SCOPED_TRACE(m.how);
    // pgxn-release's contract: an XHR upload answers 200 "Success".
    EXPECT_EQ(uploads_[i].status, 200) << uploads_[i].body;
    EXPECT_EQ(uploads_[i].body, "Success");

    const std::string release = "/dist/linkdoc/" + m.version;
    // The zip already lives under the lower-case "linkdoc-VERSION/" and
    // stores its paths verbatim, so the origin keeps the author's bytes and
    // the SHA-1 the author can compute (docs/pgxn.md §3, step 4).
    HttpResult zip = mirror_->Get(release + "/linkdoc-" + m.version + ".zip");
    ASSERT_EQ(zip.status, 200);
    EXPECT_EQ(zip.body.size(), m.zip->size());
    EXPECT_TRUE(zip.body == *m.zip) << "the mirror's zip is not the uploaded one";
    HttpResult meta = mirror_->Get(release + "/META.json");
    ASSERT_EQ(meta.status, 200);
    const Json doc = Json::parse(meta.body, nullptr, false);
    EXPECT_EQ(doc.value("sha1", ""), base::Sha1Hex(*m.zip)) << meta.body;
    EXPECT_EQ(doc.value("version", ""), m.version) << meta.body;
    EXPECT_EQ(doc.value("user", ""), kUser) << meta.body;
    // README.md is a link: README.txt holds what it names.
    HttpResult readme = mirror_->Get(release + "/README.txt");
    EXPECT_EQ(readme.status, 200);
    EXPECT_EQ(readme.body, LinkdocDoc(m.version));

    // The indexer renders the linked README and the doc linked to it.
    for (const std::string page : {"/doc/linkdoc.html", "/README.html", "/doc/guide.html"}) {
      HttpResult html = FromIndexer(release + page);
      EXPECT_EQ(html.status, 200) << page;
      EXPECT_TRUE(absl::StrContains(html.body, "id=\"Binary.Quantization\""))
          << page << ": " << html.body;
    }
    HttpResult linked = FromIndexer("/src/linkdoc/linkdoc-" + m.version + "/README.md");
    EXPECT_EQ(linked.status, 200);
    EXPECT_EQ(linked.body, LinkdocDoc(m.version));
  }
  // The newest stable release is the one the dist shows.
  const Json dist = Json::parse(mirror_->Get("/dist/linkdoc.json").body, nullptr, false);
  EXPECT_EQ(dist["releases"]["stable"][0]["version"], "1.0.1") << dist.dump();
  EXPECT_EQ(dist["releases"]["stable"].size(), 2u) << dist.dump();
}

// ---------------------------------------------------------------------------
// 2. Bad links are refused, naming the entry

TEST_F(RealArchivesTest, ArchivesWithBadLinksAreRefusedNamingTheEntry) {
  const BadCase cases[] = {
      {"escapelink",
       {{"doc/passwd.txt", "", "../../etc/passwd"}},
       {"\"escapelink-1.0.0.zip\" entry \"escapelink-1.0.0/doc/passwd.txt\" is a symbolic link "
        "to \"../../etc/passwd\", outside \"escapelink-1.0.0\""}},
      {"abslink",
       {{"doc/passwd.txt", "", "/etc/passwd"}},
       {"\"abslink-1.0.0.zip\" entry \"abslink-1.0.0/doc/passwd.txt\" is a symbolic link to an "
        "absolute path, \"/etc/passwd\""}},
      {"danglelink",
       {{"README.md", "", "doc/missing.md"}},
       {"\"danglelink-1.0.0.zip\" entry \"danglelink-1.0.0/README.md\" is a symbolic link to "
        "\"doc/missing.md\", which is not in the archive"}},
      // Either link may be the one found looping first (zip stores them in
      // the directory's order).
      {"looplink",
       {{"a", "", "b"}, {"b", "", "a"}},
       {"\"looplink-1.0.0.zip\" entry \"looplink-1.0.0/a\" is a symbolic link that loops",
        "\"looplink-1.0.0.zip\" entry \"looplink-1.0.0/b\" is a symbolic link that loops"}},
  };
  const std::string work = dir_->path() + "/bad";
  const uint64_t before = origin_->AppliedSeq();
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string top = c.name + "-1.0.0";
    absl::StatusOr<std::string> zip = ZipDirectory(work, top, BadTree(c.name, c.links));
    ASSERT_TRUE(zip.ok()) << zip.status();
    UploadResult result = Upload(*zip, top + ".zip");
    EXPECT_EQ(result.status, 409) << result.body;
    EXPECT_TRUE(absl::c_any_of(
        c.messages, [&](const std::string& m) { return absl::StrContains(result.body, m); }))
        << "expected \"" << c.messages[0] << "\" in: " << result.body;
  }
  // A refusal publishes no event; once the mirror has everything the origin
  // made, none of these dists is there.
  EXPECT_EQ(origin_->AppliedSeq(), before);
  ASSERT_TRUE(mirror_->WaitForSeq(origin_->AppliedSeq()));
  for (const BadCase& c : cases) {
    EXPECT_EQ(mirror_->Get("/dist/" + c.name + ".json").status, 404) << c.name;
    EXPECT_EQ(mirror_->Get("/dist/" + c.name + "/1.0.0/META.json").status, 404) << c.name;
  }
}

// ---------------------------------------------------------------------------
// 3. The docfile's page

TEST_F(RealArchivesTest, DocPageHasIdsAnchorsAndLinksIntoTheSources) {
  HttpResult page = FromIndexer("/dist/linkdoc/1.0.0/doc/linkdoc.html");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(absl::StartsWith(page.Header("content-type"), "text/html"))
      << page.Header("content-type");
  const std::string& html = page.body;
  const struct {
    std::string name, fragment;
  } cases[] = {
      {"wrapper", "<div id=\"pgxndoc\">"},
      {"table of contents", "<div id=\"pgxntoc\">"},
      {"h1 with PGXN's id", "<h1 id=\"linkdoc.1.0.0\">"},
      {"h2 with PGXN's id", "<h2 id=\"Synopsis\">"},
      {"ATX h2 with PGXN's id", "<h2 id=\"Binary.Quantization\">"},
      {"GitHub's anchor beside PGXN's id", "<span id=\"binary-quantization\"></span>"},
      {"the author's link to GitHub's anchor", "href=\"#binary-quantization\""},
      {"toc entry", "href=\"#Binary.Quantization\""},
      {"fenced code", "SELECT linkdoc_version();"},
      {"table", "<td><code>fast</code></td>"},
      {"a doc that is a link to a link is a doc", "href=\"guide.html\""},
      {"../LICENSE under /src/", "href=\"/src/linkdoc/linkdoc-1.0.0/LICENSE\""},
      {"../img/logo.gif under /src/", "src=\"/src/linkdoc/linkdoc-1.0.0/img/logo.gif\""},
  };
  for (const auto& c : cases) {
    EXPECT_TRUE(absl::StrContains(html, c.fragment)) << c.name << ": " << html;
  }
  // What the rewritten links name answers, as a browser showing the page
  // would fetch it.
  HttpResult license = FromIndexer("/src/linkdoc/linkdoc-1.0.0/LICENSE");
  EXPECT_EQ(license.status, 200);
  EXPECT_EQ(license.body, kLicense);
  HttpResult logo = FromIndexer("/src/linkdoc/linkdoc-1.0.0/img/logo.gif");
  EXPECT_EQ(logo.status, 200);
  EXPECT_EQ(logo.Header("content-type"), "image/gif");
  EXPECT_TRUE(logo.body == LogoGif()) << "the GIF's bytes differ";

  // The README (a link to the doc) shows the doc's headings.
  HttpResult readme = FromIndexer("/dist/linkdoc/1.0.0/README.html");
  ASSERT_EQ(readme.status, 200);
  EXPECT_TRUE(absl::StartsWith(readme.body, "<div id=\"pgxndoc\">")) << readme.body.substr(0, 200);
  EXPECT_TRUE(absl::StrContains(readme.body, "<h1 id=\"linkdoc.1.0.0\">")) << readme.body;
  EXPECT_TRUE(absl::StrContains(readme.body, "<span id=\"binary-quantization\"></span>"))
      << readme.body;
}

// ---------------------------------------------------------------------------
// 4. The enriched JSON

TEST_F(RealArchivesTest, EnrichedJsonListsSpecialFilesAndDocs) {
  for (const std::string path : {"/dist/linkdoc/1.0.0/META.json", "/dist/linkdoc.json"}) {
    SCOPED_TRACE(path);
    HttpResult result = FromIndexer(path);
    ASSERT_EQ(result.status, 200);
    const Json meta = Json::parse(result.body, nullptr, false);
    ASSERT_TRUE(meta.is_object()) << result.body;
    ASSERT_TRUE(meta.contains("special_files") && meta["special_files"].is_array()) << result.body;
    const std::vector<std::string> special = meta["special_files"];
    // PGXN's order (docs/pgxn.md §5): Changes, README, LICENSE, ..., META.json,
    // Makefile, MANIFEST, D.control; README.md counts though it is a link.
    const std::vector<std::string> expected = {"CHANGELOG.md", "README.md", "LICENSE",
                                               "META.json",    "Makefile",  "linkdoc.control"};
    size_t previous = 0;
    for (const std::string& file : expected) {
      const auto found = std::find(special.begin(), special.end(), file);
      if (found == special.end()) {
        ADD_FAILURE() << file << " not in special_files: " << meta["special_files"].dump();
        continue;
      }
      const size_t at = found - special.begin();
      EXPECT_GE(at, previous) << file << " out of PGXN's order: " << meta["special_files"].dump();
      previous = at;
    }
    EXPECT_EQ(meta["provides"]["linkdoc"].value("docpath", ""), "doc/linkdoc") << result.body;
    ASSERT_TRUE(meta.contains("docs") && meta["docs"].is_object()) << result.body;
    for (const char* docpath : {"doc/linkdoc", "README", "doc/guide", "CHANGELOG", "doc/intro",
                                "doc/howto", "doc/api", "doc/notes", "doc/wiki", "doc/extra"}) {
      EXPECT_TRUE(meta["docs"].contains(docpath)) << docpath << " not in docs: " << meta["docs"];
    }
  }
}

// ---------------------------------------------------------------------------
// 5. Docs in other markups

TEST_F(RealArchivesTest, DocsInOtherMarkupsAreConvertedWhereTheirConverterIsInstalled) {
  // The program each markup needs, as the indexer runs it (by this path).
  const struct {
    std::string page, markup, converter;  // converter "": rendered in process (cmark-gfm)
    // Whether the markup has tables and relative links of its own (POD has
    // neither: its L<> names a Perl module, and its table is raw HTML).
    bool native;
  } cases[] = {
      {"doc/intro", "reStructuredText", "/usr/bin/rst2html5", true},
      {"doc/howto", "AsciiDoc", "/usr/bin/asciidoctor", true},
      {"doc/api", "POD", "/usr/bin/perl", false},
      {"doc/notes", "Textile", "/usr/bin/pandoc", true},
      {"doc/wiki", "MediaWiki", "/usr/bin/pandoc", true},
      {"doc/extra", "MultiMarkdown", "", true},
  };
  static const std::regex kHeadingWithId("<h[12] id=\"[^\"]+\"");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.markup);
    const std::string path = "/dist/linkdoc/1.0.0/" + c.page + ".html";
    HttpResult page = FromIndexer(path);
    ASSERT_EQ(page.status, 200) << path;
    EXPECT_TRUE(absl::StartsWith(page.body, "<div id=\"pgxndoc\">")) << page.body.substr(0, 200);
    // Converted or escaped, the code's text is there.
    EXPECT_TRUE(absl::StrContains(page.body, "linkdoc_version()")) << page.body;
    if (c.converter.empty() || ::access(c.converter.c_str(), X_OK) == 0) {
      EXPECT_TRUE(std::regex_search(page.body, kHeadingWithId))
          << path << " has no <h1>/<h2> with an id: " << page.body;
      EXPECT_TRUE(absl::StrContains(page.body, "<div id=\"pgxntoc\">"))
          << path << " has no table of contents: " << page.body;
      if (c.native) {
        EXPECT_TRUE(absl::StrContains(page.body, "<table")) << path << ": " << page.body;
        // Converted HTML goes through the same link rewriting as Markdown's.
        EXPECT_TRUE(absl::StrContains(page.body, "href=\"/src/linkdoc/linkdoc-1.0.0/LICENSE\""))
            << path << ": " << page.body;
      }
    } else {
      // Not a silent pass: the run says which converter it lacked.
      const std::string why =
          absl::StrCat(c.converter, " is not installed: ", c.markup, " shown as escaped text");
      RecordProperty(c.page, why);
      GTEST_LOG_(WARNING) << path << ": " << why;
      EXPECT_TRUE(absl::StrContains(page.body, "<pre>")) << path << ": " << page.body;
    }
  }
}

// ---------------------------------------------------------------------------
// 6. /src/

TEST_F(RealArchivesTest, SourceListingsShowLinksAndServeWhatTheyName) {
  const std::string release = "/src/linkdoc/linkdoc-1.0.0/";
  const std::string doc = LinkdocDoc("1.0.0");
  HttpResult listing = FromIndexer(release);
  ASSERT_EQ(listing.status, 200);
  EXPECT_TRUE(absl::StartsWith(listing.Header("content-type"), "text/html"))
      << listing.Header("content-type");
  // The link, its target as stored, and where it leads.
  EXPECT_TRUE(
      absl::StrContains(listing.body,
                        "README.md</a> &rarr; "
                        "<a href=\"/src/linkdoc/linkdoc-1.0.0/doc/linkdoc.md\">doc/linkdoc.md</a>"))
      << listing.body;
  // The link to a link shows its own target and leads to the file at the end.
  HttpResult docs = FromIndexer(release + "doc/");
  ASSERT_EQ(docs.status, 200);
  EXPECT_TRUE(
      absl::StrContains(docs.body,
                        "guide.md</a> &rarr; "
                        "<a href=\"/src/linkdoc/linkdoc-1.0.0/doc/linkdoc.md\">../README.md</a>"))
      << docs.body;

  HttpResult json = FromIndexer(release, {"Accept: application/json"});
  ASSERT_EQ(json.status, 200);
  EXPECT_TRUE(absl::StartsWith(json.Header("content-type"), "application/json"))
      << json.Header("content-type");
  const Json entries = Json::parse(json.body, nullptr, false);
  ASSERT_TRUE(entries.is_array()) << json.body;
  const auto readme = std::find_if(entries.begin(), entries.end(), [](const Json& e) {
    return e.value("name", "") == "README.md";
  });
  ASSERT_NE(readme, entries.end()) << json.body;
  EXPECT_EQ(*readme, (Json{{"name", "README.md"},
                           {"type", "link"},
                           {"target", "doc/linkdoc.md"},
                           {"resolved", "doc/linkdoc.md"},
                           {"resolved_type", "file"},
                           {"size", doc.size()}}));
  const Json doc_entries =
      Json::parse(FromIndexer(release + "doc/", {"Accept: application/json"}).body, nullptr, false);
  ASSERT_TRUE(doc_entries.is_array());
  const auto guide = std::find_if(doc_entries.begin(), doc_entries.end(),
                                  [](const Json& e) { return e.value("name", "") == "guide.md"; });
  ASSERT_NE(guide, doc_entries.end()) << doc_entries.dump();
  EXPECT_EQ(guide->value("target", ""), "../README.md") << guide->dump();
  EXPECT_EQ(guide->value("resolved", ""), "doc/linkdoc.md") << guide->dump();

  for (const std::string path : {"README.md", "doc/guide.md", "doc/linkdoc.md"}) {
    HttpResult file = FromIndexer(release + path);
    EXPECT_EQ(file.status, 200) << path;
    EXPECT_EQ(file.body, doc) << path;
    EXPECT_TRUE(absl::StartsWith(file.Header("content-type"), "text/plain"))
        << path << ": " << file.Header("content-type");
  }
}

// ---------------------------------------------------------------------------
// 7. The pgxn client

TEST_F(RealArchivesTest, PgxnClientDownloadsTheUploadedBytes) {
  if (const std::string missing = Missing({"pgxn"}); !missing.empty()) {
    GTEST_SKIP() << "the stock pgxn client is not installed (apt-get install pgxnclient)";
  }
  const std::string target = dir_->path() + "/download";
  fs::create_directories(target);
  // The newest stable release, then an older one by version; the client
  // checks each zip's SHA-1 against its META.json.
  for (const auto& [spec, file, zip] :
       {std::make_tuple("linkdoc", "linkdoc-1.0.1.zip", &dir_zip_),
        std::make_tuple("linkdoc=1.0.0", "linkdoc-1.0.0.zip", &git_zip_)}) {
    SCOPED_TRACE(spec);
    RunResult download = Pgxn({"download", "--target", target, spec});
    ASSERT_EQ(download.exit_code, 0) << download.output;
    const std::string got = ReadWholeFile(target + "/" + file);
    EXPECT_EQ(got.size(), zip->size()) << download.output;
    EXPECT_TRUE(got == *zip) << "pgxn download did not give the uploaded bytes";
  }
}

TEST_F(RealArchivesTest, PgxnClientInstallsWithDebiansPgConfig) {
  if (const std::string missing = Missing({"pgxn", "make"}); !missing.empty()) {
    GTEST_SKIP() << "cannot run `pgxn install` without " << missing
                 << " (apt-get install pgxnclient make)";
  }
  if (!fs::exists(kPgConfig)) {
    GTEST_SKIP() << kPgConfig << " is missing (Debian's postgresql-15): there is no PostgreSQL "
                 << "to install into";
  }
  if (::geteuid() != 0) {
    GTEST_SKIP() << "not root: `pgxn install` writes into PostgreSQL's own share directory, "
                 << "which only root may change, and this test runs no sudo";
  }
  RunResult sharedir = RunProgram({kPgConfig, "--sharedir"});
  ASSERT_EQ(sharedir.exit_code, 0) << sharedir.output;
  const fs::path extension_dir =
      fs::path(std::string(absl::StripAsciiWhitespace(sharedir.output))) / "extension";
  const fs::path control = extension_dir / "linkdoc.control";
  const fs::path script = extension_dir / "linkdoc--1.0.1.sql";
  if (fs::exists(control) || fs::exists(script)) {
    GTEST_SKIP() << control << " is already installed: installing over it and removing it "
                 << "afterwards would break this machine's own linkdoc";
  }
  // Whatever happens below, the machine is left as it was.
  absl::Cleanup remove = [&] {
    std::error_code ignored;
    fs::remove(control, ignored);
    fs::remove(script, ignored);
  };
  // pgxn builds in a temp dir of its own with `make PG_CONFIG=...`, as the
  // PGXS Makefile's `PG_CONFIG ?= pg_config` allows.
  RunResult install = Pgxn({"install", "--pg_config", kPgConfig, "--make", "make", "linkdoc"});
  ASSERT_EQ(install.exit_code, 0) << install.output;
  EXPECT_EQ(ReadWholeFile(control.string()), ControlFile("1.0.1")) << install.output;
  EXPECT_TRUE(fs::exists(script)) << install.output;

  RunResult uninstall = Pgxn({"uninstall", "--pg_config", kPgConfig, "--make", "make", "linkdoc"});
  EXPECT_EQ(uninstall.exit_code, 0) << uninstall.output;
  EXPECT_FALSE(fs::exists(control)) << uninstall.output;
  EXPECT_FALSE(fs::exists(script)) << uninstall.output;
}

}  // namespace
}  // namespace pgxn::testing
