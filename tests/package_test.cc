// The Debian package (issue 16), as an operator gets it: built with cpack
// from this build directory, its files and control fields read with dpkg-deb,
// extracted into a fresh root with `dpkg-deb -x`, and its mirror started as
// the pgxnd-mirror unit starts it (the unit's ExecStart, with the packaged
// mirror.flags adjusted to a temp dir) to follow an origin.
//
// The package is built once for the suite (cpack strips the binary and runs
// dpkg-shlibdeps: the slow part) into a temp dir, so the build directory is
// left as it was.
#include <signal.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

constexpr char kUser[] = "packager";
constexpr char kPassword[] = "a long packaging password";
const char* const kRoles[] = {"origin", "mirror", "indexer"};

// The unit's lines as key -> values (a key may repeat), comments skipped.
std::multimap<std::string, std::string> ReadUnit(const std::string& path) {
  std::multimap<std::string, std::string> unit;
  for (absl::string_view line : absl::StrSplit(ReadWholeFile(path), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#' || line.front() == '[') continue;
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    unit.emplace(kv.first, kv.second);
  }
  return unit;
}

std::string One(const std::multimap<std::string, std::string>& unit, const std::string& key) {
  auto [first, last] = unit.equal_range(key);
  if (first == last) return "(missing)";
  if (std::next(first) != last) return "(repeated)";
  return first->second;
}

class PackageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir;
    const std::string out = dir_->path() + "/cpack";
    RunResult cpack = RunProgram({CPACK_COMMAND, "-G", "DEB", "--config", CPACK_CONFIG, "-B", out});
    if (cpack.exit_code != 0) {
      *error_ = "cpack failed:\n" + cpack.output;
      return;
    }
    RunResult arch = RunProgram({"dpkg", "--print-architecture"});
    deb_ = absl::StrCat(out, "/pgxnd_", PACKAGE_VERSION, "_",
                        absl::StripAsciiWhitespace(arch.output), ".deb");
    if (!std::filesystem::exists(deb_)) {
      *error_ = absl::StrCat("cpack made no ", deb_, ":\n", cpack.output);
      return;
    }
    // A fresh root, as `dpkg -i` would fill / (without running the
    // maintainer scripts, which need root and change the system).
    root_ = dir_->path() + "/root";
    RunResult extract = RunProgram({"dpkg-deb", "-x", deb_, root_});
    if (extract.exit_code != 0) *error_ = "dpkg-deb -x failed:\n" + extract.output;
  }
  static void TearDownTestSuite() { delete dir_; }

  void SetUp() override { ASSERT_TRUE(error_->empty()) << *error_; }

  static std::string Unit(const std::string& role) {
    return absl::StrCat(root_, "/lib/systemd/system/pgxnd-", role, ".service");
  }

  static base::TempDir* dir_;
  static std::string* error_;
  static std::string deb_;
  static std::string root_;
};

base::TempDir* PackageTest::dir_ = nullptr;
std::string* PackageTest::error_ = new std::string;
std::string PackageTest::deb_;
std::string PackageTest::root_;

TEST_F(PackageTest, HoldsTheBinaryUnitsFlagFilesAndManPage) {
  RunResult contents = RunProgram({"dpkg-deb", "-c", deb_});
  ASSERT_EQ(contents.exit_code, 0) << contents.output;
  std::vector<std::string> expected = {"./usr/bin/pgxnd", "./usr/share/man/man1/pgxnd.1.gz"};
  for (const char* role : kRoles) {
    expected.push_back(absl::StrCat("./lib/systemd/system/pgxnd-", role, ".service"));
    expected.push_back(absl::StrCat("./etc/pgxnd/", role, ".flags"));
  }
  for (const std::string& path : expected) {
    EXPECT_TRUE(absl::StrContains(contents.output, " " + path + "\n"))
        << path << " is not in the package:\n"
        << contents.output;
  }
  // Stripped: without it the binary is several times larger.
  RunResult sections = RunProgram({"readelf", "-S", root_ + "/usr/bin/pgxnd"});
  ASSERT_EQ(sections.exit_code, 0) << sections.output;
  EXPECT_FALSE(absl::StrContains(sections.output, ".debug_info")) << "the binary is not stripped";
  // The packaged binary is this build's.
  RunResult version = RunProgram({root_ + "/usr/bin/pgxnd", "version"});
  EXPECT_EQ(version.output, absl::StrCat("pgxnd ", PACKAGE_VERSION, "\n"));
}

TEST_F(PackageTest, DeclaresDependenciesAndMaintainerScripts) {
  RunResult fields =
      RunProgram({"dpkg-deb", "-f", deb_, "Package", "Version", "Depends", "Recommends"});
  ASSERT_EQ(fields.exit_code, 0) << fields.output;
  EXPECT_TRUE(absl::StrContains(fields.output, "Package: pgxnd\n")) << fields.output;
  EXPECT_TRUE(absl::StrContains(fields.output, absl::StrCat("Version: ", PACKAGE_VERSION, "\n")))
      << fields.output;
  // dpkg-shlibdeps found the shared libraries the binary links (RocksDB is
  // Debian's static librocksdb.a: only its compression libraries show).
  for (const char* depends : {"adduser", "libc6", "libgrpc++", "libprotobuf", "libxapian", "libpq5",
                              "libsodium", "libarchive", "libzstd"}) {
    EXPECT_TRUE(absl::StrContains(fields.output, depends)) << "Depends lacks " << depends << ":\n"
                                                           << fields.output;
  }
  EXPECT_TRUE(absl::StrContains(fields.output, "Recommends: postgresql\n")) << fields.output;

  const std::string control = dir_->path() + "/control";
  RunResult extract = RunProgram({"dpkg-deb", "-e", deb_, control});
  ASSERT_EQ(extract.exit_code, 0) << extract.output;
  EXPECT_EQ(ReadWholeFile(control + "/conffiles"),
            "/etc/pgxnd/origin.flags\n/etc/pgxnd/mirror.flags\n/etc/pgxnd/indexer.flags\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    const std::string path = control + "/" + script;
    EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::owner_exec,
              std::filesystem::perms::owner_exec)
        << script << " is not executable";
    RunResult syntax = RunProgram({"sh", "-n", path});
    EXPECT_EQ(syntax.exit_code, 0) << script << ": " << syntax.output;
  }
  const std::string postinst = ReadWholeFile(control + "/postinst");
  EXPECT_TRUE(absl::StrContains(postinst, "adduser --system --group --home /var/lib/pgxnd"))
      << postinst;
}

TEST_F(PackageTest, UnitsRunTheFlagFileHardened) {
  for (const std::string role : kRoles) {
    const auto unit = ReadUnit(Unit(role));
    const std::map<std::string, std::string> expected = {
        {"ExecStart",
         absl::StrCat("/usr/bin/pgxnd ", role, " --flagfile /etc/pgxnd/", role, ".flags")},
        {"ExecReload", "/bin/kill -HUP $MAINPID"},
        {"User", "pgxnd"},
        {"Group", "pgxnd"},
        {"ProtectSystem", "strict"},
        {"ProtectHome", "yes"},
        {"PrivateTmp", "yes"},
        {"NoNewPrivileges", "yes"},
        {"ReadWritePaths", "/var/lib/pgxnd/" + role},
        {"Restart", "on-failure"},
        {"LimitNOFILE", "65536"},
        {"After", "network-online.target"},
        {"WantedBy", "multi-user.target"},
    };
    for (const auto& [key, value] : expected)
      EXPECT_EQ(One(unit, key), value) << role << " " << key;

    // The packaged flag file parses (a bad line would exit 2 before --help)
    // and names the one directory the unit lets the node write.
    const std::string flags = absl::StrCat(root_, "/etc/pgxnd/", role, ".flags");
    RunResult help = RunProgram({root_ + "/usr/bin/pgxnd", role, "--flagfile", flags, "--help"});
    EXPECT_EQ(help.exit_code, 0) << role << ".flags: " << help.output;
    EXPECT_TRUE(
        absl::StrContains(ReadWholeFile(flags), "\n--data-dir=/var/lib/pgxnd/" + role + "\n"))
        << role << ".flags";
  }
  // systemd's own check of the units. It wants ExecStart's program to
  // exist, so it reads copies that run the extracted binary; --man=no: the
  // page named in Documentation= is in the package, not on this machine.
  if (!std::filesystem::exists("/usr/bin/systemd-analyze")) {
    std::cout << "[ SKIPPED  ] systemd-analyze verify: systemd-analyze is not installed (Debian's "
                 "systemd package); the units' settings were still checked one by one above\n";
    return;
  }
  const std::string copies = dir_->path() + "/units";
  std::filesystem::create_directories(copies);
  std::vector<std::string> verify = {"systemd-analyze", "verify", "--man=no"};
  for (const char* role : kRoles) {
    std::string unit = ReadWholeFile(Unit(role));
    ASSERT_TRUE(absl::StrContains(unit, "\nExecStart=/usr/bin/pgxnd ")) << role;
    absl::StrReplaceAll(
        {{"\nExecStart=/usr/bin/pgxnd ", absl::StrCat("\nExecStart=", root_, "/usr/bin/pgxnd ")}},
        &unit);
    const std::string copy = absl::StrCat(copies, "/pgxnd-", role, ".service");
    WriteWholeFile(copy, unit);
    verify.push_back(copy);
  }
  RunResult verified = RunProgram(verify);
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  // It warns of a setting it does not understand and still exits 0.
  EXPECT_TRUE(absl::StripAsciiWhitespace(verified.output).empty()) << verified.output;
}

TEST_F(PackageTest, ManPageCoversEveryCommand) {
  RunResult page = RunProgram({"gzip", "-dc", root_ + "/usr/share/man/man1/pgxnd.1.gz"});
  ASSERT_EQ(page.exit_code, 0) << page.output;
  for (const char* part :
       {".TH PGXND 1", "pgxnd origin", "pgxnd origin rebuild", "pgxnd mirror", "pgxnd indexer",
        "pgxnd tail", "pgxnd user add", "pgxnd user reset\\-password", "pgxnd mail list",
        "\\-\\-flagfile FILE", "\\-\\-upstream VALUE", "/etc/pgxnd/ROLE.flags"}) {
    EXPECT_TRUE(absl::StrContains(page.output, part)) << "pgxnd(1) lacks " << part;
  }
  // groff formats it without a warning (a malformed request would give one).
  if (!std::filesystem::exists("/usr/bin/groff")) {
    std::cout << "[ SKIPPED  ] groff is not installed: pgxnd(1) was checked as text only\n";
    return;
  }
  const std::string plain = dir_->path() + "/pgxnd.1";
  WriteWholeFile(plain, page.output);
  RunResult groff = RunProgram({"groff", "-man", "-Tutf8", "-ww", "-z", plain});
  EXPECT_EQ(groff.exit_code, 0) << groff.output;
  EXPECT_TRUE(groff.output.empty()) << groff.output;
}

TEST_F(PackageTest, MirrorRunAsItsUnitFollowsAnOrigin) {
  // Under systemd this would be `systemctl start pgxnd-mirror` on a machine
  // with the package installed; a test neither installs packages on the
  // machine it runs on nor can start a unit where systemd is not PID 1 (a
  // container). It runs what the unit runs instead: the unit's ExecStart,
  // from the extracted root, with the packaged flag file.
  std::cout << "[   NOTE   ] the mirror runs as the unit's ExecStart command line, not under "
               "systemd: "
            << (std::filesystem::exists("/run/systemd/system")
                    ? "systemd runs here, but starting the unit needs the package installed "
                      "on this machine, which a test does not do"
                    : "systemd is not running here (no /run/systemd/system)")
            << "\n";

  std::unique_ptr<Node> origin =
      Node::Start("origin", dir_->path() + "/origin", {"--unsafe-no-fsync"});
  ASSERT_NE(origin, nullptr);
  ASSERT_TRUE(AddUser(origin->dir(), kUser, kPassword));

  // The packaged mirror.flags, with its data dir, upstream and listeners
  // moved to this test's; every other line as packaged.
  const std::string data_dir = dir_->path() + "/mirror";
  const std::map<std::string, std::string> replaced = {
      {"--data-dir", data_dir},
      {"--upstream", origin->grpc_address()},
      {"--http", "127.0.0.1:0"},
      {"--grpc", "127.0.0.1:0"},
  };
  std::map<std::string, int> seen;
  std::vector<std::string> lines;
  for (absl::string_view line :
       absl::StrSplit(ReadWholeFile(root_ + "/etc/pgxnd/mirror.flags"), '\n')) {
    const std::string name(line.substr(0, line.find('=')));
    if (auto it = replaced.find(name); it != replaced.end()) {
      lines.push_back(absl::StrCat(name, "=", it->second));
      ++seen[name];
    } else {
      lines.emplace_back(line);
    }
  }
  for (const auto& [name, value] : replaced) {
    EXPECT_EQ(seen[name], 1) << "the packaged mirror.flags should set " << name << " once";
  }
  const std::string flags = dir_->path() + "/mirror.flags";
  WriteWholeFile(flags, absl::StrJoin(lines, "\n"));

  // ExecStart, word by word, with the package's paths in the extracted root.
  std::vector<std::string> argv =
      absl::StrSplit(One(ReadUnit(Unit("mirror")), "ExecStart"), ' ', absl::SkipEmpty());
  ASSERT_EQ(argv.size(), 4u) << absl::StrJoin(argv, " ");
  ASSERT_EQ(argv[0], "/usr/bin/pgxnd");
  ASSERT_EQ(argv[3], "/etc/pgxnd/mirror.flags");
  argv[0] = root_ + argv[0];
  argv[3] = flags;
  Process mirror(argv, dir_->path() + "/mirror.log");
  int http_port = 0;
  ASSERT_TRUE(WaitUntil([&] {
    if (!mirror.Running()) return true;
    nlohmann::json ports =
        nlohmann::json::parse(ReadWholeFile(data_dir + "/ports.json"), nullptr, false);
    if (ports.is_object()) http_port = ports.value("http", 0);
    return http_port != 0;
  }));
  ASSERT_NE(http_port, 0) << "the mirror did not start:\n"
                          << ReadWholeFile(dir_->path() + "/mirror.log");
  const std::string mirror_url = absl::StrCat("http://127.0.0.1:", http_port);

  // A release published after the mirror started reaches it.
  UploadResult upload =
      UploadZip(origin->url(), kUser, kPassword,
                MakeDistZip(MakeMeta("packaged", "1.0.0", "Published under a packaged mirror"), {}),
                "packaged-1.0.0.zip");
  ASSERT_EQ(upload.status, 200) << upload.body;
  const std::string meta_path = "/dist/packaged/1.0.0/META.json";
  HttpResult want = origin->Get(meta_path);
  ASSERT_EQ(want.status, 200);
  HttpResult got;
  EXPECT_TRUE(WaitUntil([&] {
                got = HttpGet(mirror_url + meta_path);
                return got.status == 200 || !mirror.Running();
              }) &&
              got.status == 200)
      << "the release did not reach the mirror:\n"
      << ReadWholeFile(dir_->path() + "/mirror.log");
  EXPECT_EQ(got.body, want.body);

  // `systemctl reload` (SIGHUP) leaves it serving; `systemctl stop`
  // (SIGTERM to pgxnd alone, KillMode=mixed) stops it cleanly.
  ASSERT_EQ(::kill(mirror.pid(), SIGHUP), 0);
  EXPECT_EQ(HttpGet(mirror_url + meta_path).status, 200);
  EXPECT_TRUE(mirror.Running());
  EXPECT_EQ(mirror.Stop(SIGTERM), 0) << ReadWholeFile(dir_->path() + "/mirror.log");
}

}  // namespace
}  // namespace pgxn::testing
