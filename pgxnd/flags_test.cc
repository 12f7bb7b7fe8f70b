#include "pgxnd/flags.h"

#include "base/files.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"

namespace pgxn::cli {
namespace {

struct Parsed {
  std::string dir = "d";
  std::vector<std::string> upstreams;
  bool follow = false;
  uint64_t since = 0;
  uint64_t size = 64 << 20;
  absl::Duration wait = absl::Seconds(2);
};

FlagSet MakeFlags(Parsed* p) {
  FlagSet flags("pgxnd test", "[flags]", "A test command.");
  flags.String("data-dir", &p->dir, "data directory");
  flags.Strings("upstream", &p->upstreams, "upstreams");
  flags.Bool("follow", &p->follow, "follow");
  flags.Uint64("since", &p->since, "since");
  flags.Bytes("max-upload", &p->size, "size");
  flags.Duration("stale-after", &p->wait, "wait");
  return flags;
}

TEST(FlagsTest, ParsesEveryKind) {
  Parsed p;
  FlagSet flags = MakeFlags(&p);
  auto positional =
      flags.Parse({"--data-dir", "/x", "--upstream=a:1", "--upstream", "b:2", "--follow", "nick",
                   "--since", "7", "--max-upload", "2M", "--stale-after=500ms"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(*positional, std::vector<std::string>{"nick"});
  EXPECT_EQ(p.dir, "/x");
  EXPECT_EQ(p.upstreams, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_TRUE(p.follow);
  EXPECT_EQ(p.since, 7u);
  EXPECT_EQ(p.size, 2u << 20);
  EXPECT_EQ(p.wait, absl::Milliseconds(500));
}

TEST(FlagsTest, RejectsWithAMessageNamingTheFlag) {
  const struct {
    std::vector<std::string> args;
    std::string message_part;
  } cases[] = {
      {{"--bogus"}, "Unknown flag --bogus for pgxnd test"},
      {{"--since", "-3"}, "Invalid value \"-3\" for --since"},
      {{"--since", "x"}, "for --since"},
      {{"--max-upload", "lots"}, "for --max-upload"},
      {{"--stale-after", "soon"}, "for --stale-after"},
      {{"--follow=maybe"}, "for --follow"},
      {{"--data-dir"}, "Flag --data-dir needs a value"},
      {{"-x"}, "Unknown option -x"},
  };
  for (const auto& c : cases) {
    Parsed p;
    FlagSet flags = MakeFlags(&p);
    auto result = flags.Parse(c.args);
    ASSERT_FALSE(result.ok()) << c.args[0];
    EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << c.args[0];
    EXPECT_NE(result.status().message().find(c.message_part), absl::string_view::npos)
        << result.status();
  }
}

TEST(FlagsTest, HelpListsFlagsWithDefaults) {
  Parsed p;
  FlagSet flags = MakeFlags(&p);
  EXPECT_TRUE(absl::IsNotFound(flags.Parse({"--help"}).status()));
  const std::string help = flags.Help();
  EXPECT_NE(help.find("Usage: pgxnd test [flags]"), std::string::npos) << help;
  EXPECT_NE(help.find("--max-upload SIZE"), std::string::npos) << help;
  EXPECT_NE(help.find("(default 64M)"), std::string::npos) << help;
  EXPECT_NE(help.find("(default d)"), std::string::npos) << help;
}

TEST(FlagsTest, DoubleDashEndsFlags) {
  Parsed p;
  FlagSet flags = MakeFlags(&p);
  auto positional = flags.Parse({"--", "--follow"});
  ASSERT_TRUE(positional.ok());
  EXPECT_EQ(*positional, std::vector<std::string>{"--follow"});
  EXPECT_FALSE(p.follow);
}

// Writes `contents` to a file named `name` in `dir`; returns its path.
std::string WriteFlagFile(const base::TempDir& dir, const std::string& name,
                          const std::string& contents) {
  const std::string path = dir.path() + "/" + name;
  absl::Status s = base::WriteFileAtomically(path, contents, 0644);
  EXPECT_TRUE(s.ok()) << s;
  return path;
}

TEST(FlagsTest, FlagFileSetsOneFlagALineInBothForms) {
  base::TempDir dir;
  const std::string path = WriteFlagFile(dir, "mirror.flags",
                                         "# A comment, then a blank line.\n"
                                         "\n"
                                         "--data-dir=/var/lib/x\n"
                                         "  --upstream origin.example:7001  \n"
                                         "\t# An indented comment.\n"
                                         "--upstream=https://other.example\n"
                                         "--follow\n"
                                         "--since 7\n"
                                         "--stale-after=500ms\n"
                                         "--max-upload 2M");
  Parsed p;
  FlagSet flags = MakeFlags(&p);
  auto positional = flags.Parse({"--flagfile", path, "nick"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(*positional, std::vector<std::string>{"nick"});
  EXPECT_EQ(p.dir, "/var/lib/x");
  EXPECT_EQ(p.upstreams,
            (std::vector<std::string>{"origin.example:7001", "https://other.example"}));
  EXPECT_TRUE(p.follow);
  EXPECT_EQ(p.since, 7u);
  EXPECT_EQ(p.wait, absl::Milliseconds(500));
  EXPECT_EQ(p.size, 2u << 20);
}

TEST(FlagsTest, FlagFileValueIsTheRestOfTheLine) {
  base::TempDir dir;
  const std::string path = WriteFlagFile(dir, "f",
                                         "--data-dir /usr/sbin/sendmail -t -i\n"
                                         "--upstream=a b=c\n"
                                         "--upstream x=y # not a comment\n");
  Parsed p;
  FlagSet flags = MakeFlags(&p);
  auto positional = flags.Parse({"--flagfile=" + path});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(p.dir, "/usr/sbin/sendmail -t -i");
  EXPECT_EQ(p.upstreams, (std::vector<std::string>{"a b=c", "x=y # not a comment"}));
}

TEST(FlagsTest, CommandLineAfterTheFileOverridesIt) {
  base::TempDir dir;
  const std::string path = WriteFlagFile(dir, "f",
                                         "--data-dir=/from/file\n"
                                         "--since=7\n"
                                         "--upstream=file-a:1\n"
                                         "--upstream=file-b:2\n");
  Parsed p;
  FlagSet flags = MakeFlags(&p);
  auto positional =
      flags.Parse({"--data-dir", "/before", "--since=1", "--flagfile", path, "--data-dir", "/after",
                   "--upstream", "cli:3", "--upstream", "cli:4"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(p.dir, "/after");
  EXPECT_EQ(p.since, 7u);  // the file overrode the flag before it
  // A repeatable flag after the file replaces the file's values, and several
  // on the command line still add up.
  EXPECT_EQ(p.upstreams, (std::vector<std::string>{"cli:3", "cli:4"}));
}

TEST(FlagsTest, FlagFileKeepsRepeatableValuesNotGivenAfterIt) {
  base::TempDir dir;
  const std::string path = WriteFlagFile(dir, "f", "--upstream=file:1\n");
  Parsed p;
  FlagSet flags = MakeFlags(&p);
  auto positional = flags.Parse({"--upstream", "before:0", "--flagfile", path, "--follow"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(p.upstreams, std::vector<std::string>{"file:1"});
  EXPECT_TRUE(p.follow);
}

TEST(FlagsTest, FlagFileErrorsNameTheFileAndLine) {
  base::TempDir dir;
  const struct {
    std::string contents;
    std::string message;  // after "PATH:"
  } cases[] = {
      {"# ok\n--bogus=1\n", "2: Unknown flag --bogus for pgxnd test (see pgxnd test --help)"},
      {"--since=x\n", "1: Invalid value \"x\" for --since: expected a non-negative integer"},
      {"\n\n--data-dir\n", "3: Flag --data-dir needs a value"},
      {"nick\n", "1: expected one flag, --name=value or --name value, not \"nick\""},
      {"-x\n", "1: expected one flag, --name=value or --name value, not \"-x\""},
      {"--\n", "1: expected one flag, --name=value or --name value, not \"--\""},
      {"--flagfile other\n", "1: --flagfile cannot be nested in a flag file"},
      {"--help\n", "1: Unknown flag --help for pgxnd test (see pgxnd test --help)"},
      {"--data-dir = /x\n",
       "1: write --data-dir=value or --data-dir value, not \"--data-dir = /x\""},
  };
  for (const auto& c : cases) {
    const std::string path = WriteFlagFile(dir, "bad.flags", c.contents);
    Parsed p;
    FlagSet flags = MakeFlags(&p);
    auto result = flags.Parse({"--flagfile", path});
    ASSERT_FALSE(result.ok()) << c.contents;
    EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << c.contents;
    EXPECT_EQ(result.status().message(), path + ":" + c.message) << c.contents;
  }
}

TEST(FlagsTest, MissingFlagFileIsAUsageErrorNotHelp) {
  base::TempDir dir;
  Parsed p;
  FlagSet flags = MakeFlags(&p);
  auto result = flags.Parse({"--flagfile", dir.path() + "/absent.flags"});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_NE(result.status().message().find("absent.flags"), absl::string_view::npos)
      << result.status();
  EXPECT_EQ(flags.Parse({"--flagfile"}).status().message(), "Flag --flagfile needs a value");
}

TEST(FlagsTest, HelpDescribesFlagFile) {
  FlagSet flags("pgxnd empty", "", "No flags of its own.");
  EXPECT_NE(flags.Help().find("  --flagfile FILE         read flags from FILE"), std::string::npos)
      << flags.Help();
}

TEST(FlagsTest, ParseBytes) {
  EXPECT_EQ(*ParseBytes("0"), 0u);
  EXPECT_EQ(*ParseBytes("512k"), 512u << 10);
  EXPECT_EQ(*ParseBytes("1G"), 1u << 30);
  EXPECT_FALSE(ParseBytes("").ok());
  EXPECT_FALSE(ParseBytes("M").ok());
  EXPECT_FALSE(ParseBytes("99999999999999999999G").ok());
}

}  // namespace
}  // namespace pgxn::cli
