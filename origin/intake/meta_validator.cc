#include "origin/intake/meta_validator.h"

#include <cstdint>
#include <functional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/quote.h"
#include "base/utf8.h"
#include "origin/catalog/semver.h"

namespace pgxn::origin {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxQuoted = 80;

std::string Quote(absl::string_view text) { return base::QuoteUntrusted(text, kMaxQuoted); }

// A JSON pointer (RFC 6901) to a child, with control characters escaped and
// long keys shortened for the same reason as Quote.
std::string PointerTo(absl::string_view parent, absl::string_view key) {
  bool cut = false;
  const absl::string_view shown = base::ShortenUtf8(key, kMaxQuoted, &cut);
  std::string out(parent.data(), parent.size());
  out += '/';
  for (char c : shown) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else if (u < 0x20 || u == 0x7F) {
      out += absl::CHexEscape(absl::string_view(&c, 1));
    } else {
      out += c;
    }
  }
  if (cut) out += "...";
  return out;
}

std::string PointerTo(absl::string_view parent, size_t index) {
  return absl::StrCat(parent, "/", index);
}

const char* TypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "not a JSON value";
  }
}

// A version a build tool was meant to fill in: "__VERSION__", "@VERSION@",
// "@@VERSION@@", "{{VERSION}}", "${VERSION}". Authors who release a git
// archive of their repository publish these; saying so beats "not a valid
// semantic version".
bool IsTemplatePlaceholder(absl::string_view text) {
  return (text.size() > 4 && absl::StartsWith(text, "__") && absl::EndsWith(text, "__")) ||
         (text.size() > 2 && absl::StartsWith(text, "@") && absl::EndsWith(text, "@")) ||
         (absl::StrContains(text, "{{") && absl::StrContains(text, "}}")) ||
         absl::StrContains(text, "${");
}

// Unicode White_Space, as Perl's [[:space:]] sees it (PGXN checks terms so).
bool IsSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

// Why `text` is not a term (allow_space false) or a tag (true), or "" if it is one.
std::string StringClassProblem(absl::string_view text, bool allow_space, size_t min_chars,
                               size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++chars) {
    char32_t c;
    if (!base::DecodeUtf8(text, &i, &c)) return "it is not valid UTF-8";
    if (!allow_space && IsSpace(c)) return "it contains whitespace";
    if (IsControl(c)) return "it contains a control character";
    if (c == '/') return "it contains \"/\"";
    if (c == '\\') return "it contains \"\\\"";
  }
  if (chars < min_chars) {
    return min_chars == 1 ? "it is empty"
                          : absl::StrCat("it must be at least ", min_chars, " characters");
  }
  if (chars > max_chars) return absl::StrCat("it must be no more than ", max_chars, " characters");
  return "";
}

bool IsCustomKey(absl::string_view key) { return absl::StartsWithIgnoreCase(key, "x_"); }

constexpr absl::string_view kLicenses[] = {
    "agpl_3",      "apache_1_1", "apache_2_0",   "artistic_1",  "artistic_2",  "bsd",
    "freebsd",     "gfdl_1_2",   "gfdl_1_3",     "gpl_1",       "gpl_2",       "gpl_3",
    "lgpl_2_1",    "lgpl_3_0",   "mit",          "mozilla_1_0", "mozilla_1_1", "openssl",
    "perl_5",      "postgresql", "qpl_1_0",      "ssleay",      "sun",         "zlib",
    "open_source", "restricted", "unrestricted", "unknown",
};
constexpr absl::string_view kPhases[] = {"configure", "build", "test", "runtime", "develop"};
constexpr absl::string_view kRelations[] = {"requires", "recommends", "suggests", "conflicts"};

template <size_t N>
bool OneOf(absl::string_view value, const absl::string_view (&set)[N]) {
  for (absl::string_view s : set) {
    if (value == s) return true;
  }
  return false;
}

class Validator {
 public:
  explicit Validator(const MetaRules& rules) : rules_(rules) {}

  using Check = std::function<void(const std::string& pointer, const Json& value)>;
  struct Field {
    absl::string_view name;
    bool required;
    Check check;
  };

  std::vector<std::string> TakeErrors() { return std::move(errors_); }

  void Document(const Json& meta) {
    if (!meta.is_object()) {
      errors_.push_back(absl::StrCat("META.json must hold a JSON object, not ", TypeName(meta)));
      return;
    }
    Object("", meta,
           {
               {"name", true, [this](auto& p, auto& v) { Term(p, v); }},
               {"version", true, [this](auto& p, auto& v) { Version(p, v); }},
               {"abstract", true, [this](auto& p, auto& v) { String(p, v); }},
               {"maintainer", true,
                [this](auto& p, auto& v) {
                  List(p, v, "maintainer", [this](auto& ip, auto& iv) { String(ip, iv); });
                }},
               {"license", true, [this](auto& p, auto& v) { License(p, v); }},
               {"provides", true, [this](auto& p, auto& v) { Provides(p, v); }},
               {"meta-spec", true, [this](auto& p, auto& v) { MetaSpec(p, v); }},
               {"description", false, [this](auto& p, auto& v) { String(p, v); }},
               {"generated_by", false, [this](auto& p, auto& v) { String(p, v); }},
               {"tags", false,
                [this](auto& p, auto& v) {
                  List(p, v, "", [this](auto& ip, auto& iv) { Tag(ip, iv); });
                }},
               {"no_index", false, [this](auto& p, auto& v) { NoIndex(p, v); }},
               {"prereqs", false, [this](auto& p, auto& v) { Prereqs(p, v); }},
               {"release_status", false, [this](auto& p, auto& v) { ReleaseStatus(p, v); }},
               {"resources", false, [this](auto& p, auto& v) { Resources(p, v); }},
           });
  }

 private:
  void Error(const std::string& pointer, absl::string_view problem) {
    errors_.push_back(absl::StrCat("Field ", pointer, ": ", problem));
  }

  void Missing(const std::string& pointer) {
    errors_.push_back(absl::StrCat("Required field ", pointer, ": missing"));
  }

  bool ExpectString(const std::string& pointer, const Json& value) {
    if (value.is_string()) return true;
    Error(pointer, absl::StrCat("must be a string, not ", TypeName(value)));
    return false;
  }

  bool ExpectObject(const std::string& pointer, const Json& value) {
    if (value.is_object()) return true;
    Error(pointer, absl::StrCat("must be an object, not ", TypeName(value)));
    return false;
  }

  // An object whose keys the spec defines: required fields first, then every
  // present key in byte order (nlohmann::json keeps objects sorted).
  void Object(const std::string& pointer, const Json& value, const std::vector<Field>& fields) {
    if (!ExpectObject(pointer, value)) return;
    for (const Field& field : fields) {
      if (!field.required) continue;
      const auto it = value.find(std::string(field.name));
      if (it == value.end() || it->is_null()) Missing(PointerTo(pointer, field.name));
    }
    for (const auto& [key, child] : value.items()) {
      const std::string child_pointer = PointerTo(pointer, key);
      const Field* known = nullptr;
      for (const Field& field : fields) {
        if (field.name == key) known = &field;
      }
      if (known != nullptr) {
        if (!(known->required && child.is_null())) known->check(child_pointer, child);
      } else if (!IsCustomKey(key)) {
        Error(child_pointer, "unknown key; custom keys must start with \"x_\" or \"X_\"");
      }
    }
  }

  // The spec's List: an array, or a single string standing for a list of one.
  // `noun`, when set, makes an empty array an error ("at least one <noun>").
  void List(const std::string& pointer, const Json& value, absl::string_view noun,
            const Check& item) {
    if (value.is_string()) {
      item(pointer, value);
      return;
    }
    if (!value.is_array()) {
      Error(pointer,
            absl::StrCat("must be a string or an array of strings, not ", TypeName(value)));
      return;
    }
    if (value.empty() && !noun.empty()) {
      Error(pointer, absl::StrCat("must list at least one ", noun));
      return;
    }
    for (size_t i = 0; i < value.size(); ++i) item(PointerTo(pointer, i), value[i]);
  }

  void String(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    if (value.get_ref<const std::string&>().empty()) Error(pointer, "must not be empty");
  }

  void Term(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    TermText(pointer, value.get_ref<const std::string&>());
  }

  void TermText(const std::string& pointer, absl::string_view text) {
    const std::string problem = StringClassProblem(text, /*allow_space=*/false, 2, SIZE_MAX);
    if (!problem.empty()) {
      Error(pointer, absl::StrCat(Quote(text), " is not a valid term: ", problem));
    }
  }

  void Tag(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    const std::string& text = value.get_ref<const std::string&>();
    const std::string problem = StringClassProblem(text, /*allow_space=*/true, 1, 256);
    if (!problem.empty()) {
      Error(pointer, absl::StrCat(Quote(text), " is not a valid tag: ", problem));
    }
  }

  void Version(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    const std::string& text = value.get_ref<const std::string&>();
    if (IsTemplatePlaceholder(text)) {
      Error(pointer, absl::StrCat(Quote(text),
                                  " is not a valid semantic version: it is a template "
                                  "placeholder; release the archive your build fills it in"));
    } else if (!(rules_.accept_semver1 ? ParseSemVer(text) : ParseStrictSemVer(text)).ok()) {
      Error(pointer, absl::StrCat(Quote(text), " is not a valid semantic version"));
    }
  }

  // As PGXN checks URLs: a scheme and a non-empty authority.
  void Url(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    const std::string& text = value.get_ref<const std::string&>();
    if (!IsUrl(text)) Error(pointer, absl::StrCat(Quote(text), " is not a valid URL"));
  }

  static bool IsUrl(absl::string_view text) {
    for (char c : text) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u == 0x7F) return false;
    }
    const size_t colon = text.find(':');
    if (colon == absl::string_view::npos || colon == 0) return false;
    const absl::string_view scheme = text.substr(0, colon);
    if (!absl::ascii_isalpha(static_cast<unsigned char>(scheme[0]))) return false;
    for (char c : scheme) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
        return false;
      }
    }
    absl::string_view rest = text.substr(colon + 1);
    if (!absl::ConsumePrefix(&rest, "//")) return false;
    const size_t end = rest.find_first_of("/?#");
    return !rest.substr(0, end).empty();
  }

  void Email(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    const std::string& text = value.get_ref<const std::string&>();
    const size_t at = text.find('@');
    bool ok = at != std::string::npos && at > 0 && at + 1 < text.size();
    for (char c : text) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u == 0x7F) ok = false;
    }
    if (!ok) Error(pointer, absl::StrCat(Quote(text), " is not a valid email address"));
  }

  void LicenseName(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    const std::string& text = value.get_ref<const std::string&>();
    if (!OneOf(text, kLicenses))
      Error(pointer, absl::StrCat(Quote(text), " is an unknown license"));
  }

  void License(const std::string& pointer, const Json& value) {
    if (value.is_object()) {
      if (value.empty()) Error(pointer, "must name at least one license");
      for (const auto& [name, url] : value.items()) {
        const std::string child = PointerTo(pointer, name);
        if (name.empty()) Error(child, "license name must not be empty");
        Url(child, url);
      }
      return;
    }
    if (!value.is_string() && !value.is_array()) {
      Error(pointer, absl::StrCat("must be a license name, an array of license names or an "
                                  "object mapping license names to URLs, not ",
                                  TypeName(value)));
      return;
    }
    List(pointer, value, "license", [this](auto& p, auto& v) { LicenseName(p, v); });
  }

  void Provides(const std::string& pointer, const Json& value) {
    if (!ExpectObject(pointer, value)) return;
    if (value.empty()) {
      Error(pointer, "must name at least one extension");
      return;
    }
    for (const auto& [name, spec] : value.items()) {
      const std::string child = PointerTo(pointer, name);
      TermText(child, name);
      Object(child, spec,
             {
                 {"file", true, [this](auto& p, auto& v) { String(p, v); }},
                 {"version", true, [this](auto& p, auto& v) { Version(p, v); }},
                 {"abstract", false, [this](auto& p, auto& v) { String(p, v); }},
                 {"docfile", false, [this](auto& p, auto& v) { String(p, v); }},
             });
    }
  }

  void MetaSpec(const std::string& pointer, const Json& value) {
    Object(pointer, value,
           {
               {"version", true, [this](auto& p, auto& v) { MetaSpecVersion(p, v); }},
               {"url", false, [this](auto& p, auto& v) { Url(p, v); }},
           });
  }

  // PGXN's validator knows the specification 1.0.0 only, and refuses to
  // validate a document written to another.
  void MetaSpecVersion(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    const std::string& text = value.get_ref<const std::string&>();
    if (text != "1.0.0") {
      Error(pointer, absl::StrCat("Unknown META specification ", Quote(text),
                                  ", cannot validate; must be 1.0.0"));
    }
  }

  void NoIndex(const std::string& pointer, const Json& value) {
    const Check paths = [this](auto& p, auto& v) {
      List(p, v, "", [this](auto& ip, auto& iv) { String(ip, iv); });
    };
    Object(pointer, value, {{"file", false, paths}, {"directory", false, paths}});
  }

  void Prereqs(const std::string& pointer, const Json& value) {
    if (!ExpectObject(pointer, value)) return;
    for (const auto& [phase, relations] : value.items()) {
      const std::string phase_pointer = PointerTo(pointer, phase);
      if (IsCustomKey(phase)) continue;
      if (!OneOf(phase, kPhases)) {
        Error(phase_pointer,
              "unknown prereq phase; must be one of configure, build, test, runtime, develop");
        continue;
      }
      if (!ExpectObject(phase_pointer, relations)) continue;
      for (const auto& [relation, prereqs] : relations.items()) {
        const std::string relation_pointer = PointerTo(phase_pointer, relation);
        if (IsCustomKey(relation)) continue;
        if (!OneOf(relation, kRelations)) {
          Error(relation_pointer,
                "unknown prereq relation; must be one of requires, recommends, "
                "suggests, conflicts");
          continue;
        }
        if (!ExpectObject(relation_pointer, prereqs)) continue;
        for (const auto& [name, range] : prereqs.items()) {
          const std::string prereq_pointer = PointerTo(relation_pointer, name);
          TermText(prereq_pointer, name);
          VersionRange(prereq_pointer, range);
        }
      }
    }
  }

  void VersionRange(const std::string& pointer, const Json& value) {
    if (value.is_number_integer() || value.is_number_unsigned()) {
      if (value.get<int64_t>() != 0) {
        Error(pointer, absl::StrCat(value.dump(),
                                    " is not a valid version range; the only "
                                    "number allowed is 0"));
      }
      return;
    }
    if (!value.is_string()) {
      Error(pointer, absl::StrCat("must be a version range string or 0, not ", TypeName(value)));
      return;
    }
    if (absl::Status s = CheckVersionRange(value.get_ref<const std::string&>(),
                                           /*strict=*/!rules_.accept_semver1);
        !s.ok()) {
      Error(pointer, s.message());
    }
  }

  void ReleaseStatus(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    const std::string& text = value.get_ref<const std::string&>();
    if (text != "stable" && text != "testing" && text != "unstable") {
      Error(pointer, absl::StrCat(Quote(text),
                                  " is not a valid release status; must be one of "
                                  "stable, testing, unstable"));
    }
  }

  void Resources(const std::string& pointer, const Json& value) {
    Object(pointer, value,
           {
               {"homepage", false, [this](auto& p, auto& v) { Url(p, v); }},
               {"bugtracker", false,
                [this](auto& p, auto& v) {
                  Object(p, v,
                         {
                             {"web", false, [this](auto& ip, auto& iv) { Url(ip, iv); }},
                             {"mailto", false, [this](auto& ip, auto& iv) { Email(ip, iv); }},
                         });
                }},
               {"repository", false,
                [this](auto& p, auto& v) {
                  Object(p, v,
                         {
                             {"url", false, [this](auto& ip, auto& iv) { Url(ip, iv); }},
                             {"web", false, [this](auto& ip, auto& iv) { Url(ip, iv); }},
                             {"type", false, [this](auto& ip, auto& iv) { VcsType(ip, iv); }},
                         });
                }},
           });
  }

  void VcsType(const std::string& pointer, const Json& value) {
    if (!ExpectString(pointer, value)) return;
    const std::string& text = value.get_ref<const std::string&>();
    if (text.empty()) {
      Error(pointer, "must not be empty");
    } else if (text != absl::AsciiStrToLower(text)) {
      Error(pointer, absl::StrCat(Quote(text), " is not a lowercase string"));
    }
  }

  const MetaRules rules_;
  std::vector<std::string> errors_;
};

}  // namespace

std::vector<std::string> ValidateMeta(const nlohmann::json& meta, const MetaRules& rules) {
  Validator validator(rules);
  validator.Document(meta);
  return validator.TakeErrors();
}

}  // namespace pgxn::origin
