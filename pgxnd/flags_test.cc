#include "pgxnd/flags.h"

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
