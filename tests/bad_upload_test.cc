// The bad-upload corpus (tests/bad_uploads/*.json, format in its README.md)
// sent to one real origin with curl, as pgxn-release sends uploads: every case
// must be answered with its status and message and leave the rows, the tree and
// the event log exactly as they were. The archives are built here with
// libarchive's writer, which (unlike archive::WriteZip) writes whatever it is
// given: links, fifos, absolute and ".." paths, tar formats, bombs.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "origin/pg/embedded_postgres.h"
#include "origin/pg/pg.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

// Small limits, so that the limit cases are cheap to build and to send.
const std::vector<std::string> kOriginFlags = {
    "--unsafe-no-fsync", "--max-upload", "1M", "--max-unpacked", "4M", "--max-entries", "50"};

struct Account {
  std::string nickname;
  std::string password;
};
const Account kDefaultAccount{"bob", "bobs secret password"};
const Account kOtherAccount{"mallory", "mallorys password"};

// The origin every case runs against, started once for the whole binary.
struct Shared {
  base::TempDir dir;
  std::unique_ptr<Node> origin;
  int next_work_dir = 0;
};
Shared* shared = nullptr;

class OriginEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    shared = new Shared;
    const std::string data_dir = shared->dir.path() + "/origin";
    if (!AddUser(data_dir, kDefaultAccount.nickname, kDefaultAccount.password) ||
        !AddUser(data_dir, kOtherAccount.nickname, kOtherAccount.password)) {
      return;
    }
    shared->origin = Node::Start("origin", data_dir, kOriginFlags);
  }
  void TearDown() override {
    delete shared;
    shared = nullptr;
  }
};
::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new OriginEnvironment);

// ---------------------------------------------------------------------------
// Building the bytes a case describes.

// The valid META.json that a "meta" content patches (RFC 6902).
nlohmann::json TemplateMeta(const std::string& name, const std::string& version) {
  return nlohmann::json{
      {"name", name},
      {"version", version},
      {"abstract", "A bad upload corpus case"},
      {"maintainer", "Corpus Author <corpus@example.com>"},
      {"license", "postgresql"},
      {"provides", {{name, {{"file", "sql/" + name + ".sql"}, {"version", version}}}}},
      {"meta-spec", {{"version", "1.0.0"}, {"url", "https://pgxn.org/meta/spec.txt"}}},
  };
}

absl::Status Invalid(absl::string_view why) { return absl::InvalidArgumentError(why); }

// The bytes of a content spec: exactly one of text, base64, json, meta or
// parts, then repeated `repeat` times. No content at all is "".
absl::StatusOr<std::string> BuildContent(const nlohmann::json& spec) {
  static constexpr const char* kKinds[] = {"text", "base64", "json", "meta", "parts"};
  const char* kind = nullptr;
  for (const char* k : kKinds) {
    if (!spec.contains(k)) continue;
    if (kind != nullptr) return Invalid(absl::StrCat("both \"", kind, "\" and \"", k, "\""));
    kind = k;
  }
  std::string once;
  const std::string which = kind == nullptr ? "" : kind;
  if (which == "text") {
    if (!spec["text"].is_string()) return Invalid("\"text\" must be a string");
    once = spec["text"].get<std::string>();
  } else if (which == "base64") {
    if (!spec["base64"].is_string() ||
        !absl::Base64Unescape(spec["base64"].get<std::string>(), &once)) {
      return Invalid("\"base64\" must be a base64 string");
    }
  } else if (which == "json") {
    once = spec["json"].dump(2);
  } else if (which == "meta") {
    const nlohmann::json& meta = spec["meta"];
    if (!meta.is_object() || !meta.value("name", nlohmann::json()).is_string() ||
        !meta.value("version", nlohmann::json()).is_string()) {
      return Invalid("\"meta\" needs string \"name\" and \"version\"");
    }
    nlohmann::json doc = TemplateMeta(meta["name"], meta["version"]);
    if (meta.contains("patch")) {
      try {
        doc = doc.patch(meta["patch"]);
      } catch (const nlohmann::json::exception& e) {
        return Invalid(absl::StrCat("\"meta\" patch: ", e.what()));
      }
    }
    once = doc.dump(2);
  } else if (which == "parts") {
    if (!spec["parts"].is_array()) return Invalid("\"parts\" must be an array");
    for (const nlohmann::json& part : spec["parts"]) {
      absl::StatusOr<std::string> bytes = BuildContent(part);
      if (!bytes.ok()) return bytes.status();
      once += *bytes;
    }
  }
  const int64_t repeat = spec.value("repeat", int64_t{1});
  if (repeat < 0 || (repeat > 1 && once.size() * static_cast<uint64_t>(repeat) > (64u << 20))) {
    return Invalid("\"repeat\" must be 0 or more and give at most 64 MiB");
  }
  std::string out;
  out.reserve(once.size() * static_cast<size_t>(repeat));
  for (int64_t i = 0; i < repeat; ++i) out += once;
  return out;
}

struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t AppendBytes(struct archive*, void* out, const void* buffer, size_t length) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

// One entry of a libarchive write: a path, a type, content or a link target.
struct RawEntry {
  std::string path;
  unsigned int filetype = AE_IFREG;
  std::string data;
  std::string symlink;
  std::string hardlink;
};

struct ZipOptions {
  bool store = false;      // no compression
  std::string encryption;  // "" or a libarchive zip:encryption value, e.g. "zipcrypt"
};

// Writes `entries` exactly as given. `format` is "zip", "tar" (pax
// restricted), "ustar" or "raw" (one entry, its bytes alone); `filter` is
// "none", "gzip" or "bzip2".
absl::StatusOr<std::string> WriteArchive(const std::vector<RawEntry>& entries,
                                         absl::string_view format, absl::string_view filter,
                                         const ZipOptions& zip) {
  std::unique_ptr<struct archive, WriteFree> a(archive_write_new());
  struct archive* w = a.get();
  int r = ARCHIVE_FATAL;
  if (format == "zip") {
    r = archive_write_set_format_zip(w);
    if (r == ARCHIVE_OK && zip.store) r = archive_write_zip_set_compression_store(w);
    if (r == ARCHIVE_OK && !zip.encryption.empty()) {
      r = archive_write_set_options(w, absl::StrCat("zip:encryption=", zip.encryption).c_str());
      if (r == ARCHIVE_OK) r = archive_write_set_passphrase(w, "corpus passphrase");
    }
  } else if (format == "tar") {
    r = archive_write_set_format_pax_restricted(w);
  } else if (format == "ustar") {
    r = archive_write_set_format_ustar(w);
  } else if (format == "raw") {
    r = archive_write_set_format_raw(w);
  } else {
    return Invalid(absl::StrCat("unknown archive format \"", format, "\""));
  }
  if (r != ARCHIVE_OK) return Invalid(absl::StrCat("format: ", archive_error_string(w)));
  if (filter == "gzip") {
    r = archive_write_add_filter_gzip(w);
  } else if (filter == "bzip2") {
    r = archive_write_add_filter_bzip2(w);
  } else if (filter != "none") {
    return Invalid(absl::StrCat("unknown filter \"", filter, "\""));
  }
  if (r != ARCHIVE_OK) return Invalid(absl::StrCat("filter: ", archive_error_string(w)));
  std::string out;
  archive_write_set_bytes_in_last_block(w, 1);
  if (archive_write_open2(w, &out, nullptr, AppendBytes, nullptr, nullptr) != ARCHIVE_OK) {
    return Invalid(absl::StrCat("open: ", archive_error_string(w)));
  }
  for (const RawEntry& raw : entries) {
    std::unique_ptr<struct archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), raw.path.c_str());
    archive_entry_set_filetype(e.get(), raw.filetype);
    archive_entry_set_perm(e.get(), raw.filetype == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_mtime(e.get(), 1700000000, 0);
    if (!raw.symlink.empty()) archive_entry_copy_symlink(e.get(), raw.symlink.c_str());
    if (!raw.hardlink.empty()) archive_entry_copy_hardlink(e.get(), raw.hardlink.c_str());
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(raw.data.size()));
    if (archive_write_header(w, e.get()) < ARCHIVE_WARN) {
      return Invalid(absl::StrCat("header of \"", raw.path, "\": ", archive_error_string(w)));
    }
    for (size_t written = 0; written < raw.data.size();) {
      const la_ssize_t n =
          archive_write_data(w, raw.data.data() + written, raw.data.size() - written);
      if (n <= 0) {
        return Invalid(absl::StrCat("data of \"", raw.path, "\": ", archive_error_string(w)));
      }
      written += static_cast<size_t>(n);
    }
  }
  if (archive_write_close(w) != ARCHIVE_OK) {
    return Invalid(absl::StrCat("close: ", archive_error_string(w)));
  }
  return out;
}

// One entry of "entries", with "{i}" in its path replaced by `index`.
absl::StatusOr<RawEntry> BuildEntry(const nlohmann::json& entry, int64_t index) {
  RawEntry raw;
  raw.path = absl::StrReplaceAll(entry.value("path", ""), {{"{i}", absl::StrCat(index)}});
  const std::string type = entry.value("type", "file");
  const std::string target = entry.value("target", "");
  if (type == "file") {
    absl::StatusOr<std::string> content = BuildContent(entry);
    if (!content.ok()) {
      return Invalid(absl::StrCat("entry \"", raw.path, "\": ", content.status().message()));
    }
    raw.data = *std::move(content);
  } else if (type == "dir") {
    raw.filetype = AE_IFDIR;
  } else if (type == "symlink") {
    raw.filetype = AE_IFLNK;
    raw.symlink = target;
  } else if (type == "hardlink") {
    raw.hardlink = target;
  } else if (type == "fifo") {
    raw.filetype = AE_IFIFO;
  } else {
    return Invalid(absl::StrCat("entry \"", raw.path, "\": unknown type \"", type, "\""));
  }
  if ((type == "symlink" || type == "hardlink") && target.empty()) {
    return Invalid(absl::StrCat("entry \"", raw.path, "\": a ", type, " needs a target"));
  }
  return raw;
}

absl::StatusOr<std::string> BuildArchive(const nlohmann::json& spec) {
  if (!spec.is_object()) return Invalid("\"archive\" must be an object");
  const std::string format = spec.value("format", "zip");
  const std::string filter = spec.value("filter", "none");
  std::string bytes;
  if (format == "raw") {
    absl::StatusOr<std::string> content = BuildContent(spec);
    if (!content.ok()) return content.status();
    bytes = *std::move(content);
  } else {
    std::vector<RawEntry> entries;
    for (const nlohmann::json& entry : spec.value("entries", nlohmann::json::array())) {
      // "copies": N stands for N entries, numbered 1..N where the path says "{i}".
      const int64_t copies = entry.value("copies", int64_t{1});
      if (copies < 1 || copies > 100000) return Invalid("\"copies\" must be 1 to 100000");
      for (int64_t i = 1; i <= copies; ++i) {
        absl::StatusOr<RawEntry> raw = BuildEntry(entry, i);
        if (!raw.ok()) return raw.status();
        entries.push_back(*std::move(raw));
      }
    }
    ZipOptions zip;
    zip.store = spec.value("compression", "deflate") == "store";
    zip.encryption = spec.value("encryption", "");
    if (spec.value("compression", "deflate") != "deflate" && !zip.store) {
      return Invalid("\"compression\" must be \"deflate\" or \"store\"");
    }
    if (format != "zip" && (zip.store || !zip.encryption.empty())) {
      return Invalid("\"compression\" and \"encryption\" are for zips");
    }
    absl::StatusOr<std::string> archive = WriteArchive(entries, format, "none", zip);
    if (!archive.ok()) return archive.status();
    bytes = *std::move(archive);
  }
  if (filter != "none") {
    // Compressing the finished bytes as one stream is what `gzip x.tar` does.
    RawEntry whole;
    whole.path = "data";
    whole.data = std::move(bytes);
    absl::StatusOr<std::string> compressed = WriteArchive({whole}, "raw", filter, ZipOptions());
    if (!compressed.ok()) return compressed.status();
    bytes = *std::move(compressed);
  }
  if (spec.contains("truncate")) {
    if (!spec["truncate"].is_number_integer()) return Invalid("\"truncate\" must be an integer");
    const int64_t keep = spec["truncate"].get<int64_t>();
    const int64_t size = static_cast<int64_t>(bytes.size());
    const int64_t new_size = keep >= 0 ? std::min(keep, size) : std::max<int64_t>(0, size + keep);
    bytes.resize(static_cast<size_t>(new_size));
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Sending an upload and seeing what it changed.

struct Answer {
  int status = 0;
  std::string body;
  std::string curl_output;  // for messages when something went wrong
};

// POST /upload with the curl binary, as pgxn-release does:
//   curl --user U:P -F 'submit=Release It!' -F archive=@FILE
//        -H 'X-Requested-With: XMLHttpRequest' ORIGIN/upload
// with the changes a case asks for (see README.md): another user or none, the
// file in another field, another file name, an Accept: application/json.
absl::StatusOr<Answer> Send(const nlohmann::json& request, const std::string& bytes) {
  const std::string work = absl::StrCat(shared->dir.path(), "/work-", shared->next_work_dir++);
  std::filesystem::create_directories(work);
  const std::string filename = request.value("filename", "upload.zip");
  const bool plain_name = !filename.empty() && filename.find('/') == std::string::npos &&
                          filename != "." && filename != "..";
  const std::string file = absl::StrCat(work, "/", plain_name ? filename : "upload.bin");
  WriteWholeFile(file, bytes);

  std::vector<std::string> argv = {"curl",         "-sS", "-o",
                                   work + "/body", "-w",  "\nHTTP %{http_code}\n"};
  const std::string user = request.value("user", "default");
  if (user == "default") {
    argv.insert(argv.end(), {"--user", kDefaultAccount.nickname + ":" + kDefaultAccount.password});
  } else if (user == "other") {
    argv.insert(argv.end(), {"--user", kOtherAccount.nickname + ":" + kOtherAccount.password});
  } else if (user == "wrong-password") {
    argv.insert(argv.end(), {"--user", kDefaultAccount.nickname + ":not the password"});
  } else if (user == "unknown") {
    argv.insert(argv.end(), {"--user", "nobody-here:" + kDefaultAccount.password});
  } else if (user != "none") {
    return Invalid(absl::StrCat("unknown user \"", user, "\""));
  }
  std::string file_field = absl::StrCat(request.value("field", "archive"), "=@", file);
  if (!plain_name) absl::StrAppend(&file_field, ";filename=\"", filename, "\"");
  argv.insert(argv.end(), {"-F", "submit=Release It!", "-F", file_field, "-H",
                           "X-Requested-With: XMLHttpRequest"});
  if (request.value("accept_json", false)) {
    argv.insert(argv.end(), {"-H", "Accept: application/json"});
  }
  argv.push_back(shared->origin->url() + "/upload");
  RunResult run = RunProgram(argv);

  Answer answer;
  answer.curl_output = run.output;
  for (absl::string_view line : absl::StrSplit(run.output, '\n')) {
    if (absl::ConsumePrefix(&line, "HTTP ")) {
      if (!absl::SimpleAtoi(line, &answer.status)) answer.status = -1;
    }
  }
  answer.body = ReadWholeFile(work + "/body");
  std::filesystem::remove_all(work);
  return answer;
}

// What an upload could leave behind.
struct Footprint {
  std::vector<std::pair<std::string, int64_t>> counts;  // table, rows
  std::string tree;                                     // the /_tree listing
  uint64_t applied_seq = 0;
};

constexpr const char* kCountedTables[] = {
    "distributions",
    "distribution_tags",
    "distribution_extensions",
    "extensions",
    "coowners",
    "blobs",
    "tree_files",
    "events",
};

absl::StatusOr<Footprint> Measure() {
  auto conn = origin::PgConnection::Connect(
      origin::EmbeddedPostgresDsn(shared->dir.path() + "/origin/postgres"));
  if (!conn.ok()) return conn.status();
  Footprint f;
  for (const char* table : kCountedTables) {
    auto rows = (*conn)->Exec(absl::StrCat("SELECT count(*) FROM ", table));
    if (!rows.ok()) return rows.status();
    f.counts.emplace_back(table, rows->GetInt(0, 0));
  }
  HttpResult tree = shared->origin->Get("/_tree");
  if (tree.status != 200) return absl::UnavailableError(absl::StrCat("/_tree: ", tree.status));
  f.tree = std::move(tree.body);
  nlohmann::json status = shared->origin->Status();
  if (!status.is_object() || !status.contains("applied_seq")) {
    return absl::UnavailableError("/_status has no applied_seq");
  }
  f.applied_seq = status["applied_seq"].get<uint64_t>();
  return f;
}

// How `after` differs from `before`, or "" if it does not.
std::string Difference(const Footprint& before, const Footprint& after) {
  std::string out;
  for (size_t i = 0; i < before.counts.size(); ++i) {
    if (before.counts[i].second != after.counts[i].second) {
      absl::StrAppend(&out, before.counts[i].first, " rows ", before.counts[i].second, " -> ",
                      after.counts[i].second, "; ");
    }
  }
  if (before.applied_seq != after.applied_seq) {
    absl::StrAppend(&out, "applied_seq ", before.applied_seq, " -> ", after.applied_seq, "; ");
  }
  if (before.tree != after.tree) absl::StrAppend(&out, "/_tree now:\n", after.tree);
  return out;
}

nlohmann::json ReadCase(const std::string& path) {
  return nlohmann::json::parse(ReadWholeFile(path), nullptr, /*allow_exceptions=*/false);
}

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(BAD_UPLOADS_DIR, error)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> ExpectedMessages(const nlohmann::json& c) {
  const nlohmann::json& message = c["message"];
  if (message.is_string()) return {message.get<std::string>()};
  std::vector<std::string> out;
  if (message.is_array()) {
    for (const nlohmann::json& m : message) {
      if (m.is_string()) out.push_back(m.get<std::string>());
    }
  }
  return out;
}

// ---------------------------------------------------------------------------

class BadUploadTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_NE(shared, nullptr);
    ASSERT_NE(shared->origin, nullptr) << "the origin did not start";
  }
};

TEST_P(BadUploadTest, IsRefusedWithItsMessageAndChangesNothing) {
  const std::string name = std::filesystem::path(GetParam()).filename().string();
  const nlohmann::json c = ReadCase(GetParam());
  ASSERT_TRUE(c.is_object()) << name << " is not a JSON object";
  const std::string description = c.value("description", "");
  SCOPED_TRACE(absl::StrCat(name, ": ", description));

  for (const nlohmann::json& setup : c.value("setup", nlohmann::json::array())) {
    absl::StatusOr<std::string> bytes = BuildArchive(setup["archive"]);
    ASSERT_TRUE(bytes.ok()) << "setup archive: " << bytes.status();
    absl::StatusOr<Answer> answer = Send(setup, *bytes);
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_EQ(answer->status, 200) << "setup upload: " << answer->body << answer->curl_output;
  }

  absl::StatusOr<std::string> bytes = BuildArchive(c["archive"]);
  ASSERT_TRUE(bytes.ok()) << "archive: " << bytes.status();
  absl::StatusOr<Footprint> before = Measure();
  ASSERT_TRUE(before.ok()) << before.status();
  absl::StatusOr<Answer> answer = Send(c, *bytes);
  ASSERT_TRUE(answer.ok()) << answer.status();
  absl::StatusOr<Footprint> after = Measure();
  ASSERT_TRUE(after.ok()) << after.status();

  EXPECT_EQ(answer->status, c.value("status", 0))
      << "body: " << answer->body << "\ncurl: " << answer->curl_output;
  std::string message = answer->body;
  if (c.value("accept_json", false)) {
    const nlohmann::json body = nlohmann::json::parse(answer->body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body.contains("message") && body["message"].is_string())
        << "not a JSON error: " << answer->body;
    if (body.is_object() && body.contains("message") && body["message"].is_string()) {
      message = body["message"].get<std::string>();
    }
  }
  const std::vector<std::string> expected = ExpectedMessages(c);
  EXPECT_FALSE(expected.empty()) << "the case names no message";
  for (const std::string& part : expected) {
    EXPECT_TRUE(absl::StrContains(message, part))
        << "expected \"" << part << "\" in the answer: " << message;
  }
  const std::string difference = Difference(*before, *after);
  EXPECT_EQ(difference, "") << "the refused upload left something behind";
}

std::string CaseTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadUploadTest, ::testing::ValuesIn(CaseFiles()), CaseTestName);

TEST(BadUploadCorpusTest, HasAtLeastThirtyWellFormedCases) {
  const std::vector<std::string> files = CaseFiles();
  EXPECT_GE(files.size(), 30u) << "in " << BAD_UPLOADS_DIR;
  for (const std::string& file : files) {
    const nlohmann::json c = ReadCase(file);
    ASSERT_TRUE(c.is_object()) << file;
    EXPECT_TRUE(c.value("description", "") != "") << file << ": no description";
    const int status = c.value("status", 0);
    EXPECT_TRUE(status >= 400 && status < 500) << file << ": status " << status;
    EXPECT_FALSE(ExpectedMessages(c).empty()) << file << ": no message";
    EXPECT_TRUE(c.contains("archive")) << file << ": no archive";
  }
}

// The builder's own output is accepted when nothing is wrong with it, in every
// format the corpus uses: so each bad case fails for the reason it states, not
// because the builder wrote something unreadable.
TEST(BadUploadControlTest, WellFormedArchivesFromTheSameBuilderArePublished) {
  ASSERT_NE(shared, nullptr);
  ASSERT_NE(shared->origin, nullptr) << "the origin did not start";
  const struct {
    const char* name;
    const char* archive;
    const char* user = "default";
  } cases[] = {
      {"zip", R"({"entries": [
          {"path": "ctlzip-1.0.0/META.json", "meta": {"name": "ctlzip", "version": "1.0.0"}},
          {"path": "ctlzip-1.0.0/sql/ctlzip.sql", "text": "SELECT 1;\n"}]})"},
      {"stored zip with directories", R"({"compression": "store", "entries": [
          {"path": "ctlstore-1.0.0/", "type": "dir"},
          {"path": "ctlstore-1.0.0/META.json", "meta": {"name": "ctlstore", "version": "1.0.0"}},
          {"path": "ctlstore-1.0.0/README", "text": "x", "repeat": 1000}]})"},
      {"zip with META at the root", R"({"entries": [
          {"path": "META.json", "meta": {"name": "ctlroot", "version": "1.0.0"}}]})"},
      {"pax tar", R"({"format": "tar", "entries": [
          {"path": "ctltar-1.0.0/META.json", "meta": {"name": "ctltar", "version": "1.0.0"}}]})"},
      {"ustar tar", R"({"format": "ustar", "entries": [
          {"path": "ctlustar-1.0.0/META.json", "meta": {"name": "ctlustar", "version": "1.0.0"}}]})"},
      {"tar.gz", R"({"format": "tar", "filter": "gzip", "entries": [
          {"path": "ctltgz-1.0.0/META.json", "meta": {"name": "ctltgz", "version": "1.0.0"}}]})"},
      {"tar.bz2", R"({"format": "tar", "filter": "bzip2", "entries": [
          {"path": "ctltbz-1.0.0/META.json", "meta": {"name": "ctltbz", "version": "1.0.0"}}]})"},
      {"meta patched with an added key", R"({"entries": [
          {"path": "ctlpatch-1.0.0/META.json", "meta": {"name": "ctlpatch", "version": "1.0.0",
           "patch": [{"op": "add", "path": "/tags", "value": ["corpus"]}]}}]})"},
      {"the other account", R"({"entries": [
          {"path": "ctlother-1.0.0/META.json", "meta": {"name": "ctlother", "version": "1.0.0"}}]})",
       "other"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const nlohmann::json spec = nlohmann::json::parse(c.archive);
    absl::StatusOr<std::string> bytes = BuildArchive(spec);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    absl::StatusOr<Footprint> before = Measure();
    ASSERT_TRUE(before.ok()) << before.status();
    const nlohmann::json request = {{"filename", "control.bin"}, {"user", c.user}};
    absl::StatusOr<Answer> answer = Send(request, *bytes);
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->status, 200) << answer->body << answer->curl_output;
    EXPECT_EQ(answer->body, "Success");
    absl::StatusOr<Footprint> after = Measure();
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(after->applied_seq, before->applied_seq + 1);
    EXPECT_EQ(after->counts[0].second, before->counts[0].second + 1) << "distributions rows";
  }
}

}  // namespace
}  // namespace pgxn::testing
