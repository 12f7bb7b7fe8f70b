// The doc converters as the indexer runs them: the programs Debian packages,
// and hostile ones that hang, flood or try to get out, which must be cut off
// while the caller carries on.
#include "indexer/docs/markup_converters.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

// A doc in each markup, with two headings and code.
struct Sample {
  Markup markup;
  const char* program;  // what must be installed
  const char* content;
  const char* h1;  // what its first heading must render as
};

const Sample kSamples[] = {
    {Markup::kRst, "/usr/bin/rst2html5",
     "Pair\n====\n\nUsage\n-----\n\n::\n\n  SELECT 1;\n\n.. include:: /etc/passwd\n",
     "<h1>Pair</h1>"},
    {Markup::kAsciiDoc, "/usr/bin/asciidoctor",
     "= Pair\n\n== Usage\n\ninclude::/etc/passwd[]\n\n----\nSELECT 1;\n----\n", "<h1>Pair</h1>"},
    {Markup::kPod, "/usr/bin/perl", "=head1 Pair\n\n=head2 Usage\n\n  SELECT 1;\n\n=cut\n",
     "<h1 id=\"Pair\">Pair</h1>"},
    {Markup::kTextile, "/usr/bin/pandoc", "h1. Pair\n\nh2. Usage\n\n@SELECT 1;@\n",
     "<h1 id=\"pair\">Pair</h1>"},
    {Markup::kMediaWiki, "/usr/bin/pandoc", "= Pair =\n\n== Usage ==\n\n <code>SELECT 1;</code>\n",
     "<h1 id=\"pair\">Pair</h1>"},
    {Markup::kCreole, "/usr/bin/pandoc", "= Pair\n\n== Usage\n\n{{{SELECT 1;}}}\n",
     "<h1>Pair</h1>"},
};

TEST(MarkupConvertersTest, EachInstalledProgramConvertsItsMarkup) {
  MarkupConverters converters{ConverterOptions()};
  for (const Sample& sample : kSamples) {
    if (access(sample.program, X_OK) != 0) {
      // ops/lib/deps.sh installs them all; an operator may not have.
      GTEST_LOG_(WARNING) << sample.program << " is not installed: " << MarkupName(sample.markup)
                          << " docs stay text on such a node";
      EXPECT_TRUE(absl::IsNotFound(converters.ToHtml(sample.markup, sample.content).status()));
      continue;
    }
    absl::StatusOr<std::string> html = converters.ToHtml(sample.markup, sample.content);
    ASSERT_TRUE(html.ok()) << MarkupName(sample.markup) << ": " << html.status();
    EXPECT_TRUE(absl::StrContains(*html, sample.h1)) << MarkupName(sample.markup) << ": " << *html;
    EXPECT_TRUE(absl::StrContains(*html, "SELECT 1;"))
        << MarkupName(sample.markup) << ": " << *html;
    EXPECT_FALSE(absl::StrContains(*html, "root:")) << "a file of the node was read in";
  }
  const nlohmann::json status = converters.Status();
  EXPECT_EQ(status["trac"]["available"], false);
  EXPECT_EQ(status["bbcode"]["available"], false);
  EXPECT_TRUE(status["isolation"].contains("network")) << status.dump();
}

// `markup` converted by `argv`. The timeout is the test's subject only where
// it is given; elsewhere it is long enough for a loaded machine.
ConverterOptions With(Markup markup, std::vector<std::string> argv,
                      absl::Duration timeout = absl::Seconds(60)) {
  ConverterOptions options;
  options.limits.timeout = timeout;
  options.limits.max_output_bytes = 1 << 20;
  options.commands[markup] = std::move(argv);
  return options;
}

TEST(MarkupConvertersTest, AHangingConverterIsCutOff) {
  MarkupConverters converters(
      With(Markup::kRst, {"/bin/sh", "-c", "sleep 1000"}, absl::Milliseconds(300)));
  absl::StatusOr<std::string> html = converters.ToHtml(Markup::kRst, "Title\n=====\n");
  EXPECT_TRUE(absl::IsDeadlineExceeded(html.status())) << html.status();
  // One that closes its output and hangs on is cut off too.
  MarkupConverters closer(With(Markup::kRst, {"/bin/sh", "-c", "exec >/dev/null 2>&1; sleep 1000"},
                               absl::Milliseconds(300)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(closer.ToHtml(Markup::kRst, "x").status()));
}

TEST(MarkupConvertersTest, AFloodingConverterIsCutOff) {
  MarkupConverters converters(With(Markup::kPod, {"/usr/bin/yes"}));
  absl::StatusOr<std::string> html = converters.ToHtml(Markup::kPod, "=head1 x\n");
  EXPECT_TRUE(absl::IsResourceExhausted(html.status())) << html.status();
}

TEST(MarkupConvertersTest, FailuresAreErrorsAndEverythingIsCached) {
  MarkupConverters failing(With(Markup::kTextile, {"/bin/sh", "-c", "echo broken >&2; exit 3"}));
  absl::StatusOr<std::string> html = failing.ToHtml(Markup::kTextile, "h1. x");
  EXPECT_EQ(html.status().message(), "/bin/sh exited with code 3: broken");
  EXPECT_EQ(failing.ToHtml(Markup::kTextile, "h1. x").status(), html.status());
  EXPECT_EQ(failing.Status()["cache_hits"], 1);
  EXPECT_EQ(failing.Status()["failures"], 1);

  MarkupConverters echo(With(Markup::kCreole, {"/bin/cat"}));
  EXPECT_EQ(echo.ToHtml(Markup::kCreole, "<p>same</p>").value_or(""), "<p>same</p>");
  EXPECT_EQ(echo.ToHtml(Markup::kCreole, "<p>same</p>").value_or(""), "<p>same</p>");
  EXPECT_EQ(echo.Status()["conversions"], 1);
  // A program that reads nothing and says nothing: an empty doc.
  MarkupConverters quiet(With(Markup::kCreole, {"/bin/true"}));
  EXPECT_EQ(quiet.ToHtml(Markup::kCreole, std::string(1 << 20, 'x')).value_or("?"), "");

  MarkupConverters none(With(Markup::kCreole, {}));
  EXPECT_TRUE(absl::IsNotFound(none.ToHtml(Markup::kCreole, "x").status()));
  EXPECT_EQ(none.Status()["creole"]["available"], false);
  ConverterOptions off;
  off.enabled = false;
  EXPECT_TRUE(absl::IsNotFound(MarkupConverters(off).ToHtml(Markup::kRst, "x").status()));
}

// Where the kernel grants it, a converter has no network and may write only
// in its own directory.
TEST(MarkupConvertersTest, AConverterCannotReachOutWhereTheKernelAllowsIsolation) {
  const SandboxSupport support = ProbeSandbox();
  base::TempDir dir;
  const std::string outside = dir.path() + "/written-from-the-sandbox";
  const std::string secret = dir.path() + "/secret";
  { std::ofstream(secret) << "node-secret\n"; }
  MarkupConverters converters(
      With(Markup::kRst, {"/bin/sh", "-c",
                          absl::StrCat("echo x > inside && echo inside-ok; echo x > '", outside,
                                       "' 2>/dev/null || echo outside-refused; cat '", secret,
                                       "' 2>/dev/null || echo read-refused; "
                                       "grep -c : /proc/net/dev")}));
  absl::StatusOr<std::string> out = converters.ToHtml(Markup::kRst, "");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(absl::StrContains(*out, "inside-ok")) << *out;
  if (support.filesystem) {
    EXPECT_TRUE(absl::StrContains(*out, "outside-refused")) << *out;
    EXPECT_FALSE(std::filesystem::exists(outside));
    EXPECT_TRUE(absl::StrContains(*out, "read-refused")) << *out;
    EXPECT_FALSE(absl::StrContains(*out, "node-secret")) << *out;
  } else {
    GTEST_LOG_(WARNING) << "no Landlock on this kernel: writes outside are not refused";
  }
  if (support.network) {
    // /proc/net/dev lists two header lines and the namespace's interfaces:
    // only a loopback in a namespace of its own.
    EXPECT_TRUE(absl::StrContains(*out, "\n1\n") || absl::EndsWith(*out, "\n1\n")) << *out;
  } else {
    GTEST_LOG_(WARNING) << "no network namespace granted: converters rely on their safe modes";
  }
}

TEST(MarkupConvertersTest, ManyThreadsConvertAtOnce) {
  MarkupConverters converters(With(Markup::kCreole, {"/bin/cat"}));
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      got[i] = converters.ToHtml(Markup::kCreole, absl::StrCat("doc ", i)).value_or("failed");
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], absl::StrCat("doc ", i));
}

}  // namespace
}  // namespace pgxn::indexer
