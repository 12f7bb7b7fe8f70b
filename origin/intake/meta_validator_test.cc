#include "origin/intake/meta_validator.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "origin/catalog/semver.h"

namespace pgxn::origin {
namespace {

using Json = nlohmann::json;
using Mutation = std::function<void(Json&)>;

// A META.json using every field of the spec once.
Json FullMeta() {
  return Json::parse(R"json({
    "name": "pair",
    "abstract": "A key/value pair data type",
    "description": "A single PostgreSQL extension, a key/value pair data type.",
    "version": "0.1.0",
    "maintainer": ["David E. Wheeler <david@justatheory.com>"],
    "license": "postgresql",
    "provides": {
      "pair": {
        "abstract": "A key/value pair data type",
        "file": "sql/pair.sql",
        "docfile": "doc/pair.md",
        "version": "0.1.0"
      }
    },
    "prereqs": {
      "runtime": {"requires": {"PostgreSQL": "8.0.0", "plpgsql": 0}},
      "test": {"recommends": {"pgTAP": ">= 0.25.0, < 2.0.0"}}
    },
    "tags": ["ordered pair", "pair"],
    "no_index": {"file": ["test/setup.sql"], "directory": ["test"]},
    "release_status": "stable",
    "resources": {
      "homepage": "https://pgxn.org/dist/pair/",
      "bugtracker": {"web": "https://github.com/theory/kv-pair/issues/", "mailto": "b@example.com"},
      "repository": {
        "url": "git://github.com/theory/kv-pair.git",
        "web": "https://github.com/theory/kv-pair/",
        "type": "git"
      }
    },
    "generated_by": "David E. Wheeler",
    "meta-spec": {"version": "1.0.0", "url": "https://pgxn.org/meta/spec.txt"}
  })json");
}

Json MinimalMeta() {
  return Json::parse(R"json({
    "name": "widget",
    "abstract": "Widgets",
    "version": "1.0.0",
    "maintainer": "Someone <someone@example.com>",
    "license": "mit",
    "provides": {"widget": {"file": "widget.sql", "version": "1.0.0"}},
    "meta-spec": {"version": "1.0.0"}
  })json");
}

struct ValidCase {
  std::string name;
  Mutation mutate;
};

TEST(ValidateMetaTest, AcceptsValidMetadata) {
  std::vector<ValidCase> cases = {
      {"full example", [](Json&) {}},
      {"only the required fields", [](Json& m) { m = MinimalMeta(); }},
      {"maintainer string", [](Json& m) { m["maintainer"] = "David <d@example.com>"; }},
      {"two maintainers",
       [](Json& m) {
         m["maintainer"] = {"A <a@x.org>", "B <b@x.org>"};
       }},
      {"license list",
       [](Json& m) {
         m["license"] = {"postgresql", "perl_5"};
       }},
      {"license map",
       [](Json& m) {
         m["license"] = {{"PostgreSQL", "https://postgresql.org/l"}};
       }},
      {"license map of two with spaces in names",
       [](Json& m) {
         m["license"] = {{"Perl 5", "https://dev.perl.org/licenses/"},
                         {"BSD", "https://opensource.org/licenses/bsd-license.html"}};
       }},
      {"provides without abstract or docfile",
       [](Json& m) {
         m["provides"]["pair"].erase("abstract");
         m["provides"]["pair"].erase("docfile");
       }},
      {"provides custom key",
       [](Json& m) {
         m["provides"]["pair"]["x_foo"] = {1, 2};
       }},
      {"two extensions",
       [](Json& m) {
         m["provides"]["pair2"] = {{"file", "sql/pair2.sql"}, {"version", "2.0.0"}};
       }},
      {"extension version differs from dist",
       [](Json& m) { m["provides"]["pair"]["version"] = "3.1.4-rc.1"; }},
      {"meta-spec without url", [](Json& m) { m["meta-spec"].erase("url"); }},
      {"meta-spec custom key", [](Json& m) { m["meta-spec"]["X_foo"] = true; }},
      {"multibyte name", [](Json& m) { m["name"] = "yo\xC5\xADknow"; }},
      {"name with dash", [](Json& m) { m["name"] = "foo-bar"; }},
      {"two-character name", [](Json& m) { m["name"] = "ab"; }},
      {"prerelease version", [](Json& m) { m["version"] = "1.0.0-beta.1"; }},
      {"version with build metadata", [](Json& m) { m["version"] = "1.0.0+build.5"; }},
      {"no generated_by", [](Json& m) { m.erase("generated_by"); }},
      {"one tag as a string", [](Json& m) { m["tags"] = "foo"; }},
      {"no tags", [](Json& m) { m["tags"] = Json::array(); }},
      {"tag of 256 characters", [](Json& m) { m["tags"] = {std::string(256, 't')}; }},
      {"tag of 256 multibyte characters",
       [](Json& m) {
         std::string tag;
         for (int i = 0; i < 256; ++i) tag += "\xC3\xA5";
         m["tags"] = {tag};
       }},
      {"one-character tag", [](Json& m) { m["tags"] = {"x"}; }},
      {"no_index file string",
       [](Json& m) {
         m["no_index"] = {{"file", "foo"}};
       }},
      {"no_index empty lists",
       [](Json& m) {
         m["no_index"] = {{"file", Json::array()}, {"directory", Json::array()}};
       }},
      {"no_index directory string",
       [](Json& m) {
         m["no_index"] = {{"directory", "src"}};
       }},
      {"no_index custom key", [](Json& m) { m["no_index"]["X_foo"] = 1; }},
      {"prereq version 0 number",
       [](Json& m) { m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = 0; }},
      {"prereq version \"0\"",
       [](Json& m) { m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = "0"; }},
      {"prereq complex range",
       [](Json& m) {
         m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = ">= 1.2.0, != 1.5.0, < 2.0.0";
       }},
      {"prereq complex unspaced range",
       [](Json& m) {
         m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = ">=1.2.0,!=1.5.0,<2.0.0";
       }},
      {"custom prereq phase with any value", [](Json& m) { m["prereqs"]["x_phase"] = "anything"; }},
      {"custom prereq relation",
       [](Json& m) {
         m["prereqs"]["runtime"]["X_wants"] = {{"a b", 1}};
       }},
      {"empty prereqs", [](Json& m) { m["prereqs"] = Json::object(); }},
      {"no release_status", [](Json& m) { m.erase("release_status"); }},
      {"release_status testing", [](Json& m) { m["release_status"] = "testing"; }},
      {"release_status unstable", [](Json& m) { m["release_status"] = "unstable"; }},
      {"no resources", [](Json& m) { m.erase("resources"); }},
      {"bugtracker web only",
       [](Json& m) {
         m["resources"]["bugtracker"] = {{"web", "http://example.com/"}};
       }},
      {"bugtracker mailto only",
       [](Json& m) {
         m["resources"]["bugtracker"] = {{"mailto", "foo@bar.com"}};
       }},
      {"bugtracker custom",
       [](Json& m) {
         m["resources"]["bugtracker"] = {{"x_foo", "foo"}};
       }},
      {"repository url and type",
       [](Json& m) {
         m["resources"]["repository"] = {{"url", "git://x.org/r"}, {"type", "git"}};
       }},
      {"repository web only",
       [](Json& m) {
         m["resources"]["repository"] = {{"web", "https://x.org/r"}};
       }},
      {"repository custom", [](Json& m) { m["resources"]["repository"]["x_branch"] = "main"; }},
      {"resources custom key", [](Json& m) { m["resources"]["x_twitter"] = "https://t.co/p"; }},
      {"URL with port, query and fragment",
       [](Json& m) { m["resources"]["homepage"] = "https://example.com:8443/a?b=c#d"; }},
      {"custom top-level keys with any value",
       [](Json& m) {
         m["x_foo"] = {{"anything", {1, "two", nullptr}}};
         m["X_Bar"] = nullptr;
       }},
  };
  for (const char* license :
       {"agpl_3",      "apache_1_1", "apache_2_0",   "artistic_1",  "artistic_2",  "bsd",
        "freebsd",     "gfdl_1_2",   "gfdl_1_3",     "gpl_1",       "gpl_2",       "gpl_3",
        "lgpl_2_1",    "lgpl_3_0",   "mit",          "mozilla_1_0", "mozilla_1_1", "openssl",
        "perl_5",      "postgresql", "qpl_1_0",      "ssleay",      "sun",         "zlib",
        "open_source", "restricted", "unrestricted", "unknown"}) {
    cases.push_back(
        {std::string("license ") + license, [license](Json& m) { m["license"] = license; }});
  }
  for (const char* phase : {"configure", "build", "test", "runtime", "develop"}) {
    for (const char* relation : {"requires", "recommends", "suggests", "conflicts"}) {
      cases.push_back({std::string(phase) + " " + relation + " prereq", [phase, relation](Json& m) {
                         m["prereqs"][phase][relation] = {{"foo", "1.2.0"}};
                       }});
    }
  }
  for (const char* op : {"==", "!=", "<", "<=", ">", ">="}) {
    cases.push_back({std::string("range with ") + op, [op](Json& m) {
                       m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] =
                           std::string(op) + " 1.8.0";
                     }});
    cases.push_back({std::string("range with unspaced ") + op, [op](Json& m) {
                       m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] =
                           std::string(op) + "1.8.0";
                     }});
  }
  for (const ValidCase& c : cases) {
    Json meta = FullMeta();
    c.mutate(meta);
    EXPECT_EQ(ValidateMeta(meta), std::vector<std::string>{}) << c.name;
  }
}

struct InvalidCase {
  std::string name;
  Mutation mutate;
  std::vector<std::string> errors;
};

TEST(ValidateMetaTest, ReportsEveryProblemWithItsPointer) {
  const std::string long_tag(257, 'x');
  const std::vector<InvalidCase> cases = {
      // Required fields.
      {"no name", [](Json& m) { m.erase("name"); }, {"Required field /name: missing"}},
      {"no version", [](Json& m) { m.erase("version"); }, {"Required field /version: missing"}},
      {"no abstract", [](Json& m) { m.erase("abstract"); }, {"Required field /abstract: missing"}},
      {"no maintainer",
       [](Json& m) { m.erase("maintainer"); },
       {"Required field /maintainer: missing"}},
      {"no license", [](Json& m) { m.erase("license"); }, {"Required field /license: missing"}},
      {"no provides", [](Json& m) { m.erase("provides"); }, {"Required field /provides: missing"}},
      {"no meta-spec",
       [](Json& m) { m.erase("meta-spec"); },
       {"Required field /meta-spec: missing"}},
      {"null version counts as missing",
       [](Json& m) { m["version"] = nullptr; },
       {"Required field /version: missing"}},
      {"empty object",
       [](Json& m) { m = Json::object(); },
       {"Required field /name: missing", "Required field /version: missing",
        "Required field /abstract: missing", "Required field /maintainer: missing",
        "Required field /license: missing", "Required field /provides: missing",
        "Required field /meta-spec: missing"}},
      {"array document",
       [](Json& m) { m = Json::array(); },
       {"META.json must hold a JSON object, not an array"}},
      {"string document",
       [](Json& m) { m = "pair"; },
       {"META.json must hold a JSON object, not a string"}},
      // Versions.
      {"two-part version",
       [](Json& m) { m["version"] = "2.5"; },
       {"Field /version: \"2.5\" is not a valid semantic version"}},
      {"version zero",
       [](Json& m) { m["version"] = "0"; },
       {"Field /version: \"0\" is not a valid semantic version"}},
      {"version with v",
       [](Json& m) { m["version"] = "v1.0.0"; },
       {"Field /version: \"v1.0.0\" is not a valid semantic version"}},
      {"version with leading zero",
       [](Json& m) { m["version"] = "1.01.0"; },
       {"Field /version: \"1.01.0\" is not a valid semantic version"}},
      // SemVer 1.0 forms, strict SemVer 2.0.0 since 2013 (PGXN's t/validator.t
      // and the corpus of real releases).
      {"deprecated version 1.0.0v1",
       [](Json& m) { m["version"] = "1.0.0v1"; },
       {"Field /version: \"1.0.0v1\" is not a valid semantic version"}},
      {"pre-SemVer-2 version 1.1.0dev0",
       [](Json& m) { m["version"] = "1.1.0dev0"; },
       {"Field /version: \"1.1.0dev0\" is not a valid semantic version"}},
      {"pre-SemVer-2 version 0.43.2b1",
       [](Json& m) { m["version"] = "0.43.2b1"; },
       {"Field /version: \"0.43.2b1\" is not a valid semantic version"}},
      {"provides version 0.43.2b1",
       [](Json& m) { m["provides"]["pair"]["version"] = "0.43.2b1"; },
       {"Field /provides/pair/version: \"0.43.2b1\" is not a valid semantic version"}},
      {"provides version 0",
       [](Json& m) { m["provides"]["pair"]["version"] = "0"; },
       {"Field /provides/pair/version: \"0\" is not a valid semantic version"}},
      {"empty version",
       [](Json& m) { m["version"] = ""; },
       {"Field /version: \"\" is not a valid semantic version"}},
      {"prereq version 1.2b1",
       [](Json& m) { m["prereqs"]["runtime"]["requires"]["plpgsql"] = "1.2b1"; },
       {"Field /prereqs/runtime/requires/plpgsql: \"1.2b1\" is not a valid version range: "
        "\"1.2b1\" "
        "is not a valid semantic version: the patch version is missing (expected "
        "MAJOR.MINOR.PATCH)"}},
      {"prereq version 1.2.3beta1",
       [](Json& m) { m["prereqs"]["runtime"]["requires"]["plpgsql"] = ">= 1.2.3beta1"; },
       {"Field /prereqs/runtime/requires/plpgsql: \">= 1.2.3beta1\" is not a valid version range: "
        "\"1.2.3beta1\" is not a valid semantic version: SemVer 2.0.0 puts a prerelease after a "
        "'-' (\"1.2.3-beta1\")"}},
      // Versions a build tool was to fill in, named as such.
      {"templated version __VERSION__",
       [](Json& m) { m["version"] = "__VERSION__"; },
       {"Field /version: \"__VERSION__\" is not a valid semantic version: it is a template "
        "placeholder; release the archive your build fills it in"}},
      {"templated version {{VERSION}}",
       [](Json& m) { m["version"] = "{{VERSION}}"; },
       {"Field /version: \"{{VERSION}}\" is not a valid semantic version: it is a template "
        "placeholder; release the archive your build fills it in"}},
      {"templated provides version @VERSION@",
       [](Json& m) { m["provides"]["pair"]["version"] = "@VERSION@"; },
       {"Field /provides/pair/version: \"@VERSION@\" is not a valid semantic version: it is a "
        "template placeholder; release the archive your build fills it in"}},
      {"numeric version",
       [](Json& m) { m["version"] = 1.5; },
       {"Field /version: must be a string, not a number"}},
      // Terms.
      {"name with newline",
       [](Json& m) { m["name"] = "foo\nbar"; },
       {"Field /name: \"foo\\nbar\" is not a valid term: it contains whitespace"}},
      {"name with return",
       [](Json& m) { m["name"] = "foo\rbar"; },
       {"Field /name: \"foo\\rbar\" is not a valid term: it contains whitespace"}},
      {"name with slash",
       [](Json& m) { m["name"] = "foo/bar"; },
       {"Field /name: \"foo/bar\" is not a valid term: it contains \"/\""}},
      {"name with backslash",
       [](Json& m) { m["name"] = "foo\\bar"; },
       {"Field /name: \"foo\\\\bar\" is not a valid term: it contains \"\\\""}},
      {"name with space",
       [](Json& m) { m["name"] = "foo bar"; },
       {"Field /name: \"foo bar\" is not a valid term: it contains whitespace"}},
      {"name with no-break space",
       [](Json& m) {
         m["name"] =
             "foo\xC2\xA0"
             "bar";
       },
       {"Field /name: \"foo\xC2\xA0"
        "bar\" is not a valid term: it contains whitespace"}},
      {"name with DEL",
       [](Json& m) { m["name"] = "foo\x7F"; },
       {"Field /name: \"foo\x7F\" is not a valid term: it contains a control character"}},
      {"one-character name",
       [](Json& m) { m["name"] = "f"; },
       {"Field /name: \"f\" is not a valid term: it must be at least 2 characters"}},
      {"one multibyte character name",
       [](Json& m) { m["name"] = "\xC3\xA5"; },
       {"Field /name: \"\xC3\xA5\" is not a valid term: it must be at least 2 characters"}},
      {"numeric name",
       [](Json& m) { m["name"] = 42; },
       {"Field /name: must be a string, not a number"}},
      // Plain strings.
      {"empty abstract",
       [](Json& m) { m["abstract"] = ""; },
       {"Field /abstract: must not be empty"}},
      {"abstract array",
       [](Json& m) { m["abstract"] = {"a"}; },
       {"Field /abstract: must be a string, not an array"}},
      {"null description",
       [](Json& m) { m["description"] = nullptr; },
       {"Field /description: must be a string, not null"}},
      {"null generated_by",
       [](Json& m) { m["generated_by"] = nullptr; },
       {"Field /generated_by: must be a string, not null"}},
      // Maintainer.
      {"no maintainers",
       [](Json& m) { m["maintainer"] = Json::array(); },
       {"Field /maintainer: must list at least one maintainer"}},
      {"empty maintainer",
       [](Json& m) {
         m["maintainer"] = {"A <a@x.org>", ""};
       },
       {"Field /maintainer/1: must not be empty"}},
      {"numeric maintainer",
       [](Json& m) { m["maintainer"] = {1}; },
       {"Field /maintainer/0: must be a string, not a number"}},
      {"maintainer object",
       [](Json& m) {
         m["maintainer"] = {{"name", "A"}};
       },
       {"Field /maintainer: must be a string or an array of strings, not an object"}},
      // License.
      {"unknown license",
       [](Json& m) { m["license"] = "gobbledygook"; },
       {"Field /license: \"gobbledygook\" is an unknown license"}},
      {"license names are case-sensitive",
       [](Json& m) { m["license"] = "PostgreSQL"; },
       {"Field /license: \"PostgreSQL\" is an unknown license"}},
      {"unknown license in list",
       [](Json& m) {
         m["license"] = {"bsd", "gobbledygook"};
       },
       {"Field /license/1: \"gobbledygook\" is an unknown license"}},
      {"empty license list",
       [](Json& m) { m["license"] = Json::array(); },
       {"Field /license: must list at least one license"}},
      {"empty license map",
       [](Json& m) { m["license"] = Json::object(); },
       {"Field /license: must name at least one license"}},
      {"license map URLs",
       [](Json& m) {
         m["license"] = {{"foo", "http://foo.com/"}, {"bar", "not a URL"}};
       },
       {"Field /license/bar: \"not a URL\" is not a valid URL"}},
      {"license map empty name",
       [](Json& m) {
         m["license"] = {{"", "http://foo.com/"}};
       },
       {"Field /license/: license name must not be empty"}},
      {"license map key escaped in pointer",
       [](Json& m) {
         m["license"] = {{"a/b~c", 7}};
       },
       {"Field /license/a~1b~0c: must be a string, not a number"}},
      {"license number",
       [](Json& m) { m["license"] = 5; },
       {"Field /license: must be a license name, an array of license names or an object mapping "
        "license names to URLs, not a number"}},
      // Provides.
      {"provides array",
       [](Json& m) {
         m["provides"] = {"pgtap", "0.24.0"};
       },
       {"Field /provides: must be an object, not an array"}},
      {"provides nothing",
       [](Json& m) { m["provides"] = Json::object(); },
       {"Field /provides: must name at least one extension"}},
      {"no provides file",
       [](Json& m) { m["provides"]["pair"].erase("file"); },
       {"Required field /provides/pair/file: missing"}},
      {"null provides file",
       [](Json& m) { m["provides"]["pair"]["file"] = nullptr; },
       {"Required field /provides/pair/file: missing"}},
      {"no provides version",
       [](Json& m) { m["provides"]["pair"].erase("version"); },
       {"Required field /provides/pair/version: missing"}},
      {"provides version 1.0",
       [](Json& m) { m["provides"]["pair"]["version"] = "1.0"; },
       {"Field /provides/pair/version: \"1.0\" is not a valid semantic version"}},
      {"provides version hi",
       [](Json& m) { m["provides"]["pair"]["version"] = "hi"; },
       {"Field /provides/pair/version: \"hi\" is not a valid semantic version"}},
      {"null provides abstract",
       [](Json& m) { m["provides"]["pair"]["abstract"] = nullptr; },
       {"Field /provides/pair/abstract: must be a string, not null"}},
      {"empty docfile",
       [](Json& m) { m["provides"]["pair"]["docfile"] = ""; },
       {"Field /provides/pair/docfile: must not be empty"}},
      {"unknown provides key",
       [](Json& m) { m["provides"]["pair"]["woot"] = "hi"; },
       {"Field /provides/pair/woot: unknown key; custom keys must start with \"x_\" or \"X_\""}},
      {"API docpath is not an author key",
       [](Json& m) { m["provides"]["pair"]["docpath"] = "doc/pair"; },
       {"Field /provides/pair/docpath: unknown key; custom keys must start with \"x_\" or "
        "\"X_\""}},
      {"extension name with space",
       [](Json& m) {
         m["provides"]["a b"] = {{"file", "f.sql"}, {"version", "1.0.0"}};
       },
       {"Field /provides/a b: \"a b\" is not a valid term: it contains whitespace"}},
      {"extension spec not an object",
       [](Json& m) { m["provides"]["pair"] = "sql/pair.sql"; },
       {"Field /provides/pair: must be an object, not a string"}},
      // meta-spec.
      // PGXN's validator knows 1.0.0 only ("Unknown META specification,
      // cannot validate").
      {"meta-spec 2.0.0",
       [](Json& m) { m["meta-spec"]["version"] = "2.0.0"; },
       {"Field /meta-spec/version: Unknown META specification \"2.0.0\", cannot validate; must "
        "be 1.0.0"}},
      {"meta-spec 1.0.2",
       [](Json& m) { m["meta-spec"]["version"] = "1.0.2"; },
       {"Field /meta-spec/version: Unknown META specification \"1.0.2\", cannot validate; must "
        "be 1.0.0"}},
      {"meta-spec 1.0",
       [](Json& m) { m["meta-spec"]["version"] = "1.0"; },
       {"Field /meta-spec/version: Unknown META specification \"1.0\", cannot validate; must be "
        "1.0.0"}},
      {"meta-spec 1.0.0-beta",
       [](Json& m) { m["meta-spec"]["version"] = "1.0.0-beta"; },
       {"Field /meta-spec/version: Unknown META specification \"1.0.0-beta\", cannot validate; "
        "must be 1.0.0"}},
      {"no meta-spec version",
       [](Json& m) { m["meta-spec"].erase("version"); },
       {"Required field /meta-spec/version: missing"}},
      {"bad meta-spec url",
       [](Json& m) { m["meta-spec"]["url"] = "not a url"; },
       {"Field /meta-spec/url: \"not a url\" is not a valid URL"}},
      {"meta-spec string",
       [](Json& m) { m["meta-spec"] = "1.0.0"; },
       {"Field /meta-spec: must be an object, not a string"}},
      {"unknown meta-spec key",
       [](Json& m) { m["meta-spec"]["foo"] = 1; },
       {"Field /meta-spec/foo: unknown key; custom keys must start with \"x_\" or \"X_\""}},
      // Unknown keys.
      {"unknown top-level key",
       [](Json& m) { m["foo"] = 1; },
       {"Field /foo: unknown key; custom keys must start with \"x_\" or \"X_\""}},
      {"x without underscore",
       [](Json& m) { m["xfoo"] = 1; },
       {"Field /xfoo: unknown key; custom keys must start with \"x_\" or \"X_\""}},
      {"API keys are not author keys",
       [](Json& m) {
         m["user"] = "theory";
         m["sha1"] = "1234";
         m["date"] = "2010-10-18T15:24:21Z";
       },
       {"Field /date: unknown key; custom keys must start with \"x_\" or \"X_\"",
        "Field /sha1: unknown key; custom keys must start with \"x_\" or \"X_\"",
        "Field /user: unknown key; custom keys must start with \"x_\" or \"X_\""}},
      {"key with newline escaped in pointer",
       [](Json& m) { m["a\nb"] = 1; },
       {"Field /a\\nb: unknown key; custom keys must start with \"x_\" or \"X_\""}},
      // Tags.
      {"empty tag",
       [](Json& m) { m["tags"] = ""; },
       {"Field /tags: \"\" is not a valid tag: it is empty"}},
      {"empty tag item",
       [](Json& m) {
         m["tags"] = {"", "foo"};
       },
       {"Field /tags/0: \"\" is not a valid tag: it is empty"}},
      {"null tag item",
       [](Json& m) {
         m["tags"] = {"foo", nullptr};
       },
       {"Field /tags/1: must be a string, not null"}},
      {"long tag",
       [long_tag](Json& m) { m["tags"] = long_tag; },
       {"Field /tags: \"" + std::string(80, 'x') +
        "...\" is not a valid tag: it must be no more than 256 characters"}},
      {"tag with slash",
       [](Json& m) { m["tags"] = {"a/b"}; },
       {"Field /tags/0: \"a/b\" is not a valid tag: it contains \"/\""}},
      {"tag with backslash",
       [](Json& m) {
         m["tags"] = {"ok", "a\\b"};
       },
       {"Field /tags/1: \"a\\\\b\" is not a valid tag: it contains \"\\\""}},
      {"tag with tab",
       [](Json& m) { m["tags"] = {"a\tb"}; },
       {"Field /tags/0: \"a\\tb\" is not a valid tag: it contains a control character"}},
      {"tag with C1 control",
       [](Json& m) {
         m["tags"] = {
             "a\xC2\x85"
             "b"};
       },
       {"Field /tags/0: \"a\xC2\x85"
        "b\" is not a valid tag: it contains a control character"}},
      {"tags object",
       [](Json& m) {
         m["tags"] = {{"a", "b"}};
       },
       {"Field /tags: must be a string or an array of strings, not an object"}},
      // no_index.
      {"no_index empty file string",
       [](Json& m) { m["no_index"]["file"] = ""; },
       {"Field /no_index/file: must not be empty"}},
      {"no_index null file",
       [](Json& m) { m["no_index"]["file"] = nullptr; },
       {"Field /no_index/file: must be a string or an array of strings, not null"}},
      {"no_index empty file item",
       [](Json& m) { m["no_index"]["file"] = {""}; },
       {"Field /no_index/file/0: must not be empty"}},
      {"no_index null directory item",
       [](Json& m) { m["no_index"]["directory"] = {nullptr}; },
       {"Field /no_index/directory/0: must be a string, not null"}},
      {"no_index bad key",
       [](Json& m) { m["no_index"]["foo"] = {"hi"}; },
       {"Field /no_index/foo: unknown key; custom keys must start with \"x_\" or \"X_\""}},
      {"no_index array",
       [](Json& m) { m["no_index"] = {"test"}; },
       {"Field /no_index: must be an object, not an array"}},
      // Prereqs.
      {"null prereq version",
       [](Json& m) { m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = nullptr; },
       {"Field /prereqs/runtime/requires/PostgreSQL: must be a version range string or 0, not "
        "null"}},
      {"prereq version 1.0",
       [](Json& m) { m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = "1.0"; },
       {"Field /prereqs/runtime/requires/PostgreSQL: \"1.0\" is not a valid version range: \"1.0\" "
        "is not a valid semantic version: the patch version is missing (expected "
        "MAJOR.MINOR.PATCH)"}},
      {"prereq operator =",
       [](Json& m) { m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = "= 1.0.0"; },
       {"Field /prereqs/runtime/requires/PostgreSQL: \"= 1.0.0\" is not a valid version range: "
        "\"=\" is not a valid operator (use <, <=, >, >=, == or !=)"}},
      {"prereq leading comma",
       [](Json& m) { m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = ",1.0.0"; },
       {"Field /prereqs/runtime/requires/PostgreSQL: \",1.0.0\" is not a valid version range: it "
        "has an empty term"}},
      {"prereq number other than 0",
       [](Json& m) { m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = 8; },
       {"Field /prereqs/runtime/requires/PostgreSQL: 8 is not a valid version range; the only "
        "number allowed is 0"}},
      {"prereq float",
       [](Json& m) { m["/prereqs/runtime/requires/PostgreSQL"_json_pointer] = 8.4; },
       {"Field /prereqs/runtime/requires/PostgreSQL: must be a version range string or 0, not a "
        "number"}},
      {"unknown prereq phase",
       [](Json& m) {
         m["prereqs"]["howdy"] = {{"requires", {{"PostgreSQL", "1.0.0"}}}};
       },
       {"Field /prereqs/howdy: unknown prereq phase; must be one of configure, build, test, "
        "runtime, develop"}},
      {"unknown prereq relation",
       [](Json& m) {
         m["prereqs"]["runtime"]["wants"] = {{"PostgreSQL", "1.0.0"}};
       },
       {"Field /prereqs/runtime/wants: unknown prereq relation; must be one of requires, "
        "recommends, suggests, conflicts"}},
      {"prereq relation not a map",
       [](Json& m) {
         m["prereqs"]["runtime"]["requires"] = {"PostgreSQL", "1.0.0"};
       },
       {"Field /prereqs/runtime/requires: must be an object, not an array"}},
      {"prereq phase not a map",
       [](Json& m) { m["prereqs"]["build"] = "make"; },
       {"Field /prereqs/build: must be an object, not a string"}},
      {"prereqs not a map",
       [](Json& m) { m["prereqs"] = {"pgtap"}; },
       {"Field /prereqs: must be an object, not an array"}},
      {"prereq name with space",
       [](Json& m) {
         m["prereqs"]["test"]["requires"] = {{"pg tap", 0}};
       },
       {"Field /prereqs/test/requires/pg tap: \"pg tap\" is not a valid term: it contains "
        "whitespace"}},
      // release_status.
      {"release_status beta",
       [](Json& m) { m["release_status"] = "beta"; },
       {"Field /release_status: \"beta\" is not a valid release status; must be one of stable, "
        "testing, unstable"}},
      {"release_status capitalised",
       [](Json& m) { m["release_status"] = "Stable"; },
       {"Field /release_status: \"Stable\" is not a valid release status; must be one of stable, "
        "testing, unstable"}},
      {"release_status number",
       [](Json& m) { m["release_status"] = 1; },
       {"Field /release_status: must be a string, not a number"}},
      // Resources.
      {"homepage not a URL",
       [](Json& m) { m["resources"]["homepage"] = "pgxn.org"; },
       {"Field /resources/homepage: \"pgxn.org\" is not a valid URL"}},
      {"homepage without authority",
       [](Json& m) { m["resources"]["homepage"] = "http:///path"; },
       {"Field /resources/homepage: \"http:///path\" is not a valid URL"}},
      {"homepage with space",
       [](Json& m) { m["resources"]["homepage"] = "http://a b/"; },
       {"Field /resources/homepage: \"http://a b/\" is not a valid URL"}},
      {"bad bugtracker web",
       [](Json& m) { m["resources"]["bugtracker"]["web"] = "mailto:a@b.c"; },
       {"Field /resources/bugtracker/web: \"mailto:a@b.c\" is not a valid URL"}},
      {"bad bugtracker mailto",
       [](Json& m) { m["resources"]["bugtracker"]["mailto"] = "nobody"; },
       {"Field /resources/bugtracker/mailto: \"nobody\" is not a valid email address"}},
      {"unknown bugtracker key",
       [](Json& m) { m["resources"]["bugtracker"]["phone"] = "555"; },
       {"Field /resources/bugtracker/phone: unknown key; custom keys must start with \"x_\" or "
        "\"X_\""}},
      {"uppercase repository type",
       [](Json& m) { m["resources"]["repository"]["type"] = "Git"; },
       {"Field /resources/repository/type: \"Git\" is not a lowercase string"}},
      {"bad repository url",
       [](Json& m) { m["resources"]["repository"]["url"] = "git@github.com:a/b.git"; },
       {"Field /resources/repository/url: \"git@github.com:a/b.git\" is not a valid URL"}},
      {"resources license is not in the PGXN spec",
       [](Json& m) { m["resources"]["license"] = {"https://x.org/l"}; },
       {"Field /resources/license: unknown key; custom keys must start with \"x_\" or \"X_\""}},
      {"resources string",
       [](Json& m) { m["resources"] = "https://pgxn.org/"; },
       {"Field /resources: must be an object, not a string"}},
      // Many problems at once, in document order.
      {"several problems",
       [](Json& m) {
         m.erase("abstract");
         m.erase("meta-spec");
         m["version"] = "1.0";
         m["tags"] = {"ok", "a/b", ""};
         m["provides"]["pair"].erase("file");
         m["provides"]["pair"]["version"] = "x";
         m["bogus"] = true;
       },
       {"Required field /abstract: missing", "Required field /meta-spec: missing",
        "Field /bogus: unknown key; custom keys must start with \"x_\" or \"X_\"",
        "Required field /provides/pair/file: missing",
        "Field /provides/pair/version: \"x\" is not a valid semantic version",
        "Field /tags/1: \"a/b\" is not a valid tag: it contains \"/\"",
        "Field /tags/2: \"\" is not a valid tag: it is empty",
        "Field /version: \"1.0\" is not a valid semantic version"}},
  };
  for (const InvalidCase& c : cases) {
    Json meta = FullMeta();
    c.mutate(meta);
    EXPECT_EQ(ValidateMeta(meta), c.errors) << c.name;
  }
  EXPECT_GE(cases.size(), 80u);
}

TEST(ValidateMetaTest, Semver1VersionsPassOnlyWhenImporting) {
  Json meta = FullMeta();
  meta["version"] = "0.43.2b1";
  meta["provides"]["pair"]["version"] = "0.43.2b1";
  meta["prereqs"]["runtime"]["requires"]["plpgsql"] = ">= 1.2.3beta1";
  EXPECT_EQ(ValidateMeta(meta, MetaRules{/*accept_semver1=*/true}), std::vector<std::string>{});
  EXPECT_EQ(ValidateMeta(meta).size(), 3u);
  meta["version"] = "2.5";  // still no version at all
  EXPECT_EQ(ValidateMeta(meta, MetaRules{/*accept_semver1=*/true}),
            std::vector<std::string>{"Field /version: \"2.5\" is not a valid semantic version"});
}

TEST(ValidateMetaTest, ReportsAllProblemsOfAHostileDocumentBounded) {
  Json meta = MinimalMeta();
  meta["tags"] = Json::array();
  for (int i = 0; i < 1000; ++i) meta["tags"].push_back(std::string(100000, '/'));
  const std::vector<std::string> errors = ValidateMeta(meta);
  ASSERT_EQ(errors.size(), 1000u);
  for (const std::string& e : errors) EXPECT_LT(e.size(), 200u) << e.substr(0, 200);
}

// The fixtures are PGXN's outputs, not authors' inputs: every META.json there
// was written by the Manager (root-mirror: the author's META with "meta-spec",
// "generated_by" and custom keys removed and "user", "date", "sha1" added) or
// by the API server (api-root, api-responses: that plus "docs", "releases",
// "special_files" and provides/*/docpath). The author-style input each one came
// from is recovered by undoing those steps, and must validate cleanly; the file
// as published must not, because the added keys are not author keys.
Json AuthorStyle(Json published) {
  for (const char* key : {"user", "date", "sha1", "docs", "releases", "special_files"}) {
    published.erase(key);
  }
  if (auto provides = published.find("provides"); provides != published.end()) {
    for (auto& [name, spec] : provides->items()) spec.erase("docpath");
  }
  published["meta-spec"] = {{"version", "1.0.0"}, {"url", "https://pgxn.org/meta/spec.txt"}};
  return published;
}

TEST(ValidateMetaTest, FixtureMetadataValidatesAsAuthorInput) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const char* tree : {"root-mirror", "api-root", "api-responses"}) {
    const fs::path root = fs::path(PGXN_FIXTURES) / tree;
    ASSERT_TRUE(fs::is_directory(root)) << root;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && absl::StartsWith(name, "META") &&
          absl::EndsWith(name, ".json")) {
        files.push_back(entry.path());
      }
    }
  }
  ASSERT_GE(files.size(), 13u) << "fixture META.json files are missing";
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const Json published = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(published.is_object()) << file;
    // Releases published before 2013 may carry SemVer 1.0 versions
    // ("0.43.2b1"): they still read and sort, but as new uploads they are
    // refused, as PGXN refuses them.
    std::vector<std::string> expected;
    for (const auto& [pointer, version] :
         {std::pair<std::string, Json>{"/version", published["version"]}}) {
      if (version.is_string() && !ParseStrictSemVer(version.get<std::string>()).ok()) {
        expected.push_back("Field " + pointer + ": \"" + version.get<std::string>() +
                           "\" is not a valid semantic version");
      }
    }
    if (auto provides = published.find("provides"); provides != published.end()) {
      for (const auto& [name, spec] : provides->items()) {
        const Json version = spec.value("version", Json());
        if (version.is_string() && !ParseStrictSemVer(version.get<std::string>()).ok()) {
          expected.push_back("Field /provides/" + name + "/version: \"" +
                             version.get<std::string>() + "\" is not a valid semantic version");
        }
      }
    }
    std::vector<std::string> errors = ValidateMeta(AuthorStyle(published));
    std::sort(errors.begin(), errors.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(errors, expected) << file;

    const std::vector<std::string> as_published = ValidateMeta(published);
    EXPECT_TRUE(std::find(as_published.begin(), as_published.end(),
                          "Required field /meta-spec: missing") != as_published.end())
        << file << ": " << absl::StrJoin(as_published, "; ");
    EXPECT_TRUE(std::find(as_published.begin(), as_published.end(),
                          "Field /sha1: unknown key; custom keys must start with \"x_\" or "
                          "\"X_\"") != as_published.end())
        << file << ": " << absl::StrJoin(as_published, "; ");
  }
}

}  // namespace
}  // namespace pgxn::origin
