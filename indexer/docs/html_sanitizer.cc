#include "indexer/docs/html_sanitizer.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/escape.h"
#include "base/utf8.h"

namespace pgxn::indexer {
namespace {

// --- Characters --------------------------------------------------------------

bool IsHtmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

enum class Escape { kNone, kText, kAttribute };

// Appends decoded text as valid UTF-8 (invalid bytes become U+FFFD) without
// control characters other than tab, LF and CR, escaped for where it goes.
void AppendClean(absl::string_view s, Escape escape, std::string& out) {
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      ++i;
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
          c == 0x7F) {
        continue;
      }
      if (escape != Escape::kNone) {
        const absl::string_view entity =
            base::HtmlEntityFor(c, /*in_attribute=*/escape == Escape::kAttribute);
        if (!entity.empty()) {
          out.append(entity.data(), entity.size());
          continue;
        }
      }
      out += c;
      continue;
    }
    const size_t length = base::Utf8SequenceLength(s, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.data() + i, length);
      i += length;
    }
  }
}

// --- Character references ----------------------------------------------------

// HTML 4's named character references: the ones people type by hand. Others
// (HTML5 added two thousand) are left as text, which is safe: the '&' is
// escaped on output, so the browser shows what was written.
const absl::flat_hash_map<absl::string_view, uint32_t>& NamedReferences() {
  static const auto* const kReferences = [] {
    auto* references = new absl::flat_hash_map<absl::string_view, uint32_t>;
    // U+00A0 to U+00FF, in order.
    static constexpr absl::string_view kLatin1[] = {
        "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",
        "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn",
        "sup2",   "sup3",   "acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
        "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
        "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
        "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
        "Ouml",   "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",
        "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
        "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
        "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide", "oslash", "ugrave",
        "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml",
    };
    for (uint32_t i = 0; i < std::size(kLatin1); ++i) (*references)[kLatin1[i]] = 0xA0 + i;
    // U+0391 to U+03A9 and U+03B1 to U+03C9, in order ("" where there is none).
    static constexpr absl::string_view kGreekUpper[] = {
        "Alpha", "Beta",   "Gamma",   "Delta", "Epsilon", "Zeta",    "Eta",   "Theta", "Iota",
        "Kappa", "Lambda", "Mu",      "Nu",    "Xi",      "Omicron", "Pi",    "Rho",   "",
        "Sigma", "Tau",    "Upsilon", "Phi",   "Chi",     "Psi",     "Omega",
    };
    static constexpr absl::string_view kGreekLower[] = {
        "alpha", "beta",   "gamma",   "delta", "epsilon", "zeta",    "eta",   "theta", "iota",
        "kappa", "lambda", "mu",      "nu",    "xi",      "omicron", "pi",    "rho",   "sigmaf",
        "sigma", "tau",    "upsilon", "phi",   "chi",     "psi",     "omega",
    };
    for (uint32_t i = 0; i < std::size(kGreekUpper); ++i) {
      if (!kGreekUpper[i].empty()) (*references)[kGreekUpper[i]] = 0x391 + i;
      (*references)[kGreekLower[i]] = 0x3B1 + i;
    }
    struct Reference {
      absl::string_view name;
      uint32_t code_point;
    };
    static constexpr Reference kOthers[] = {
        {"quot", 0x22},     {"amp", 0x26},       {"apos", 0x27},     {"lt", 0x3C},
        {"gt", 0x3E},       {"OElig", 0x152},    {"oelig", 0x153},   {"Scaron", 0x160},
        {"scaron", 0x161},  {"Yuml", 0x178},     {"fnof", 0x192},    {"circ", 0x2C6},
        {"tilde", 0x2DC},   {"thetasym", 0x3D1}, {"upsih", 0x3D2},   {"piv", 0x3D6},
        {"ensp", 0x2002},   {"emsp", 0x2003},    {"thinsp", 0x2009}, {"zwnj", 0x200C},
        {"zwj", 0x200D},    {"lrm", 0x200E},     {"rlm", 0x200F},    {"ndash", 0x2013},
        {"mdash", 0x2014},  {"lsquo", 0x2018},   {"rsquo", 0x2019},  {"sbquo", 0x201A},
        {"ldquo", 0x201C},  {"rdquo", 0x201D},   {"bdquo", 0x201E},  {"dagger", 0x2020},
        {"Dagger", 0x2021}, {"bull", 0x2022},    {"hellip", 0x2026}, {"permil", 0x2030},
        {"prime", 0x2032},  {"Prime", 0x2033},   {"lsaquo", 0x2039}, {"rsaquo", 0x203A},
        {"oline", 0x203E},  {"frasl", 0x2044},   {"euro", 0x20AC},   {"image", 0x2111},
        {"weierp", 0x2118}, {"real", 0x211C},    {"trade", 0x2122},  {"alefsym", 0x2135},
        {"larr", 0x2190},   {"uarr", 0x2191},    {"rarr", 0x2192},   {"darr", 0x2193},
        {"harr", 0x2194},   {"crarr", 0x21B5},   {"lArr", 0x21D0},   {"uArr", 0x21D1},
        {"rArr", 0x21D2},   {"dArr", 0x21D3},    {"hArr", 0x21D4},   {"forall", 0x2200},
        {"part", 0x2202},   {"exist", 0x2203},   {"empty", 0x2205},  {"nabla", 0x2207},
        {"isin", 0x2208},   {"notin", 0x2209},   {"ni", 0x220B},     {"prod", 0x220F},
        {"sum", 0x2211},    {"minus", 0x2212},   {"lowast", 0x2217}, {"radic", 0x221A},
        {"prop", 0x221D},   {"infin", 0x221E},   {"ang", 0x2220},    {"and", 0x2227},
        {"or", 0x2228},     {"cap", 0x2229},     {"cup", 0x222A},    {"int", 0x222B},
        {"there4", 0x2234}, {"sim", 0x223C},     {"cong", 0x2245},   {"asymp", 0x2248},
        {"ne", 0x2260},     {"equiv", 0x2261},   {"le", 0x2264},     {"ge", 0x2265},
        {"sub", 0x2282},    {"sup", 0x2283},     {"nsub", 0x2284},   {"sube", 0x2286},
        {"supe", 0x2287},   {"oplus", 0x2295},   {"otimes", 0x2297}, {"perp", 0x22A5},
        {"sdot", 0x22C5},   {"lceil", 0x2308},   {"rceil", 0x2309},  {"lfloor", 0x230A},
        {"rfloor", 0x230B}, {"lang", 0x2329},    {"rang", 0x232A},   {"loz", 0x25CA},
        {"spades", 0x2660}, {"clubs", 0x2663},   {"hearts", 0x2665}, {"diams", 0x2666},
    };
    for (const Reference& reference : kOthers) (*references)[reference.name] = reference.code_point;
    return references;
  }();
  return *kReferences;
}

int DigitValue(char c, bool hex) {
  if (c >= '0' && c <= '9') return c - '0';
  if (hex && c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (hex && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `s` with character references decoded. Numeric references decode with or
// without their ';' (as browsers do, so `&#106avascript:` is seen for what it
// is); named ones need the ';'. Anything else stays as written.
std::string DecodeReferences(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '#') {
      size_t j = i + 2;
      const bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
      if (hex) ++j;
      const size_t digits_begin = j;
      uint32_t code_point = 0;
      for (int digit; j < s.size() && (digit = DigitValue(s[j], hex)) >= 0; ++j) {
        // Saturate: any run of digits stays one (invalid) code point.
        code_point = std::min<uint32_t>(code_point * (hex ? 16 : 10) + digit, 0x110000);
      }
      if (j == digits_begin) {
        out += '&';
        continue;
      }
      if (j < s.size() && s[j] == ';') ++j;
      if (code_point == 0 || code_point > 0x10FFFF ||
          (code_point >= 0xD800 && code_point <= 0xDFFF)) {
        code_point = 0xFFFD;
      }
      base::AppendUtf8(code_point, out);
      i = j - 1;
      continue;
    }
    size_t j = i + 1;
    while (j < s.size() && j - i <= 32 && absl::ascii_isalnum(static_cast<unsigned char>(s[j]))) {
      ++j;
    }
    if (j < s.size() && s[j] == ';') {
      const auto& references = NamedReferences();
      if (auto it = references.find(s.substr(i + 1, j - i - 1)); it != references.end()) {
        base::AppendUtf8(it->second, out);
        i = j;
        continue;
      }
    }
    out += '&';
  }
  return out;
}

// --- Tokenizer ---------------------------------------------------------------

struct Token {
  enum class Kind { kText, kStartTag, kEndTag };
  Kind kind = Kind::kText;
  absl::string_view text;  // kText: as written, references not decoded
  std::string name;        // tags: lower case
  // Start tags: the first occurrence of each attribute, lower-case name and
  // decoded value, in order.
  std::vector<std::pair<std::string, std::string>> attributes;
  bool self_closing = false;
};

// Attributes kept per start tag: ours need at most five, and a cap keeps the
// duplicate check cheap on hostile tags with thousands of them.
constexpr size_t kMaxAttributes = 32;

// Elements whose content is text up to their end tag, never markup. The
// tokenizer skips that text itself; all of them are dropped with their content.
bool IsRawTextElement(absl::string_view name) {
  static const auto* const kNames = new absl::flat_hash_set<absl::string_view>{
      "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"};
  return kNames->contains(name);
}

class Tokenizer {
 public:
  explicit Tokenizer(absl::string_view in) : in_(in) {}

  // Reads the next token into `token`; false at the end of the input.
  bool Next(Token& token) {
    token.name.clear();
    token.attributes.clear();
    token.self_closing = false;
    if (!raw_text_element_.empty()) {
      SkipRawText(token);
      return true;
    }
    while (pos_ < in_.size()) {
      if (in_[pos_] != '<') {
        size_t end = in_.find('<', pos_);
        if (end == absl::string_view::npos) end = in_.size();
        token.kind = Token::Kind::kText;
        token.text = in_.substr(pos_, end - pos_);
        pos_ = end;
        return true;
      }
      const absl::string_view rest = in_.substr(pos_);
      if (absl::StartsWith(rest, "<!--")) {
        // Searching from the second '-' also ends the short forms <!--> and <!--->.
        const size_t end = in_.find("-->", pos_ + 2);
        pos_ = end == absl::string_view::npos ? in_.size() : end + 3;
        continue;
      }
      if (rest.size() >= 2 && (rest[1] == '!' || rest[1] == '?')) {
        const size_t end = in_.find('>', pos_ + 2);
        pos_ = end == absl::string_view::npos ? in_.size() : end + 1;
        continue;
      }
      if (ParseTag(token)) {
        if (token.kind == Token::Kind::kStartTag && IsRawTextElement(token.name)) {
          raw_text_element_ = token.name;
        }
        return true;
      }
      token.kind = Token::Kind::kText;
      token.text = in_.substr(pos_, 1);
      ++pos_;
      return true;
    }
    return false;
  }

 private:
  // Parses the tag at in_[pos_] == '<' into `token` and moves past it, or
  // returns false (leaving pos_) if no tag starts there.
  bool ParseTag(Token& token) {
    const size_t n = in_.size();
    size_t i = pos_ + 1;
    const bool end_tag = i < n && in_[i] == '/';
    if (end_tag) ++i;
    if (i >= n || !absl::ascii_isalpha(static_cast<unsigned char>(in_[i]))) return false;
    const size_t name_begin = i;
    while (i < n && !IsHtmlSpace(in_[i]) && in_[i] != '/' && in_[i] != '>' && in_[i] != '<') ++i;
    token.name = absl::AsciiStrToLower(in_.substr(name_begin, i - name_begin));
    while (true) {
      while (i < n && (IsHtmlSpace(in_[i]) || in_[i] == '/')) {
        if (in_[i] == '/' && i + 1 < n && in_[i + 1] == '>') token.self_closing = true;
        ++i;
      }
      if (i >= n || in_[i] == '<') return false;
      if (in_[i] == '>') {
        ++i;
        break;
      }
      // The first character may be '=': browsers take it as part of the name.
      const size_t attribute_begin = i++;
      while (i < n && !IsHtmlSpace(in_[i]) && in_[i] != '/' && in_[i] != '>' && in_[i] != '=' &&
             in_[i] != '<') {
        ++i;
      }
      const absl::string_view attribute_name = in_.substr(attribute_begin, i - attribute_begin);
      absl::string_view value;
      size_t j = i;
      while (j < n && IsHtmlSpace(in_[j])) ++j;
      if (j < n && in_[j] == '=') {
        i = j + 1;
        while (i < n && IsHtmlSpace(in_[i])) ++i;
        if (i >= n) return false;
        const char quote = in_[i];
        if (quote == '"' || quote == '\'') {
          const size_t close = in_.find_first_of(quote == '"' ? "\"<" : "'<", i + 1);
          if (close == absl::string_view::npos || in_[close] == '<') return false;
          value = in_.substr(i + 1, close - i - 1);
          i = close + 1;
        } else {
          const size_t value_begin = i;
          while (i < n && !IsHtmlSpace(in_[i]) && in_[i] != '>' && in_[i] != '<') ++i;
          value = in_.substr(value_begin, i - value_begin);
        }
      }
      if (!end_tag && token.attributes.size() < kMaxAttributes) {
        std::string name = absl::AsciiStrToLower(attribute_name);
        const bool seen =
            std::any_of(token.attributes.begin(), token.attributes.end(),
                        [&](const auto& attribute) { return attribute.first == name; });
        if (!seen) token.attributes.emplace_back(std::move(name), DecodeReferences(value));
      }
    }
    token.kind = end_tag ? Token::Kind::kEndTag : Token::Kind::kStartTag;
    if (end_tag) {
      token.attributes.clear();
      token.self_closing = false;
    }
    pos_ = i;
    return true;
  }

  // Skips the content of raw_text_element_ up to and including its end tag
  // (or to the end of the input) and yields that end tag.
  void SkipRawText(Token& token) {
    const std::string& name = raw_text_element_;
    size_t resume = in_.size();
    for (size_t i = in_.find("</", pos_); i != absl::string_view::npos; i = in_.find("</", i + 2)) {
      const size_t after = i + 2 + name.size();
      if (after > in_.size() || !absl::EqualsIgnoreCase(in_.substr(i + 2, name.size()), name)) {
        continue;
      }
      if (after == in_.size() || IsHtmlSpace(in_[after]) || in_[after] == '/' ||
          in_[after] == '>') {
        const size_t gt = in_.find('>', after);
        resume = gt == absl::string_view::npos ? in_.size() : gt + 1;
        break;
      }
    }
    pos_ = resume;
    token.kind = Token::Kind::kEndTag;
    token.name = name;
    raw_text_element_.clear();
  }

  absl::string_view in_;
  size_t pos_ = 0;
  std::string raw_text_element_;  // non-empty: its content comes next
};

// --- Elements dropped with their content -------------------------------------

struct DroppedElement {
  bool is_void;  // has no content and no end tag
  bool foreign;  // SVG or MathML, where <x/> closes the element
};

const DroppedElement* FindDroppedElement(absl::string_view name) {
  static const auto* const kElements = new absl::flat_hash_map<absl::string_view, DroppedElement>{
      {"script", {false, false}},   {"style", {false, false}},    {"iframe", {false, false}},
      {"frame", {true, false}},     {"frameset", {false, false}}, {"object", {false, false}},
      {"embed", {true, false}},     {"applet", {false, false}},   {"param", {true, false}},
      {"form", {false, false}},     {"input", {true, false}},     {"textarea", {false, false}},
      {"select", {false, false}},   {"button", {false, false}},   {"template", {false, false}},
      {"noscript", {false, false}}, {"noembed", {false, false}},  {"noframes", {false, false}},
      {"svg", {false, true}},       {"math", {false, true}},      {"title", {false, false}},
      {"xmp", {false, false}},      {"meta", {true, false}},      {"link", {true, false}},
      {"base", {true, false}},
  };
  auto it = kElements->find(name);
  return it == kElements->end() ? nullptr : &it->second;
}

// Follows the tokens of an element dropped with its content, counting nested
// elements of the same name so that the drop ends at its own end tag.
class ContentDropper {
 public:
  // Whether `token` is to be discarded: the start or end tag of an element
  // dropped with its content, or anything inside one.
  bool Discards(const Token& token) {
    if (token.kind == Token::Kind::kText) return depth_ > 0;
    if (depth_ > 0) {
      if (token.name == name_) {
        if (token.kind == Token::Kind::kEndTag) {
          --depth_;
        } else if (!(foreign_ && token.self_closing)) {
          ++depth_;
        }
      }
      return true;
    }
    const DroppedElement* dropped = FindDroppedElement(token.name);
    if (dropped == nullptr) return false;
    if (token.kind == Token::Kind::kStartTag && !dropped->is_void &&
        !(dropped->foreign && token.self_closing)) {
      name_ = token.name;
      foreign_ = dropped->foreign;
      depth_ = 1;
    }
    return true;
  }

 private:
  std::string name_;
  bool foreign_ = false;
  size_t depth_ = 0;
};

// --- The allow-list ----------------------------------------------------------

enum class AttributeKind {
  kText,
  kHref,       // a link's URL, passed to the UrlRewriter
  kSrc,        // a URL
  kInteger,    // optional '-' and up to 9 digits
  kLength,     // up to 5 digits, optional '%'
  kAlign,      // left, right, center, justify
  kCodeClass,  // language-xxx, as cmark-gfm writes for fenced code
  kBoolean,    // written as name=""
  kListType,   // 1 a A i I
};

struct AttributeSpec {
  absl::string_view name;
  AttributeKind kind;
};

struct ElementSpec {
  absl::string_view name;
  bool is_void = false;
  std::vector<AttributeSpec> attributes;
};

const ElementSpec* FindElement(absl::string_view name) {
  static const auto* const kElements = [] {
    auto* elements = new absl::flat_hash_map<absl::string_view, ElementSpec>;
    auto add = [&](absl::string_view name, std::vector<AttributeSpec> attributes = {},
                   bool is_void = false) {
      (*elements)[name] = ElementSpec{name, is_void, std::move(attributes)};
    };
    using K = AttributeKind;
    for (absl::string_view name :
         {"h1",   "h2",  "h3",    "h4",    "h5",     "h6",         "em",     "strong",
          "b",    "i",   "u",     "s",     "strike", "del",        "ins",    "kbd",
          "samp", "var", "sub",   "sup",   "tt",     "blockquote", "ul",     "dl",
          "dt",   "dd",  "table", "thead", "tbody",  "tfoot",      "tr",     "caption",
          "cite", "q",   "small", "mark",  "dfn",    "summary",    "figure", "figcaption"}) {
      add(name);
    }
    add("br", {}, true);
    add("hr", {}, true);
    add("wbr", {}, true);
    add("p", {{"align", K::kAlign}});
    add("div", {{"class", K::kCodeClass}, {"align", K::kAlign}});
    add("span", {{"class", K::kCodeClass}});
    add("code", {{"class", K::kCodeClass}});
    add("pre", {{"class", K::kCodeClass}});
    add("ol", {{"start", K::kInteger}, {"type", K::kListType}});
    add("li", {{"value", K::kInteger}});
    add("th", {{"align", K::kAlign}, {"colspan", K::kInteger}, {"rowspan", K::kInteger}});
    add("td", {{"align", K::kAlign}, {"colspan", K::kInteger}, {"rowspan", K::kInteger}});
    add("a", {{"href", K::kHref}, {"title", K::kText}});
    add("img",
        {{"src", K::kSrc},
         {"alt", K::kText},
         {"title", K::kText},
         {"width", K::kLength},
         {"height", K::kLength},
         {"align", K::kAlign}},
        true);
    add("abbr", {{"title", K::kText}});
    add("details", {{"open", K::kBoolean}});
    return elements;
  }();
  auto it = kElements->find(name);
  return it == kElements->end() ? nullptr : &it->second;
}

// Control characters removed (browsers ignore some of them inside URLs) and
// surrounding spaces trimmed.
std::string CleanUrl(absl::string_view url) {
  std::string clean;
  for (char c : url) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) clean += c;
  }
  return std::string(absl::StripAsciiWhitespace(clean));
}

bool AllDigits(absl::string_view s, size_t max_digits) {
  return !s.empty() && s.size() <= max_digits &&
         std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// The value to write for an allowed attribute, or nullopt to drop it.
std::optional<std::string> CheckedValue(AttributeKind kind, absl::string_view value,
                                        UrlRewriter rewrite_url) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(value);
  switch (kind) {
    case AttributeKind::kText:
      return std::string(value);
    case AttributeKind::kHref:
    case AttributeKind::kSrc: {
      std::string url = CleanUrl(value);
      if (!IsSafeUrl(url)) return std::nullopt;
      url = CleanUrl(
          rewrite_url(url, kind == AttributeKind::kSrc ? UrlKind::kImage : UrlKind::kLink));
      if (!IsSafeUrl(url)) return std::nullopt;
      return url;
    }
    case AttributeKind::kInteger: {
      absl::string_view digits = trimmed;
      if (absl::StartsWith(digits, "-")) digits.remove_prefix(1);
      if (!AllDigits(digits, 9)) return std::nullopt;
      return std::string(trimmed);
    }
    case AttributeKind::kLength: {
      absl::string_view digits = trimmed;
      if (absl::EndsWith(digits, "%")) digits.remove_suffix(1);
      if (!AllDigits(digits, 5)) return std::nullopt;
      return std::string(trimmed);
    }
    case AttributeKind::kAlign: {
      std::string align = absl::AsciiStrToLower(trimmed);
      if (align != "left" && align != "right" && align != "center" && align != "justify") {
        return std::nullopt;
      }
      return align;
    }
    case AttributeKind::kCodeClass: {
      constexpr absl::string_view kPrefix = "language-";
      if (!absl::StartsWith(trimmed, kPrefix)) return std::nullopt;
      const absl::string_view language = trimmed.substr(kPrefix.size());
      const bool ok = !language.empty() && language.size() <= 64 &&
                      std::all_of(language.begin(), language.end(), [](char c) {
                        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                               c == '-' || c == '+' || c == '#' || c == '.';
                      });
      if (!ok) return std::nullopt;
      return std::string(trimmed);
    }
    case AttributeKind::kBoolean:
      return std::string();
    case AttributeKind::kListType:
      if (trimmed.size() != 1 ||
          absl::string_view("1aAiI").find(trimmed[0]) == absl::string_view::npos) {
        return std::nullopt;
      }
      return std::string(trimmed);
  }
  return std::nullopt;
}

void AppendStartTag(const ElementSpec& element, const Token& token, UrlRewriter rewrite_url,
                    std::string& out) {
  out += '<';
  absl::StrAppend(&out, element.name);
  for (const auto& [name, value] : token.attributes) {
    auto spec = std::find_if(
        element.attributes.begin(), element.attributes.end(),
        [&name = name](const AttributeSpec& attribute) { return attribute.name == name; });
    if (spec == element.attributes.end()) continue;
    std::optional<std::string> checked = CheckedValue(spec->kind, value, rewrite_url);
    if (!checked.has_value()) continue;
    absl::StrAppend(&out, " ", spec->name, "=\"");
    AppendClean(*checked, Escape::kAttribute, out);
    out += '"';
  }
  out += element.is_void ? " />" : ">";
}

// Elements that do not separate words in HtmlToText: `foo<em>bar</em>` is one word.
bool IsInlineElement(absl::string_view name) {
  static const auto* const kNames = new absl::flat_hash_set<absl::string_view>{
      "a",    "abbr",   "b",      "bdi", "cite", "code", "del", "dfn",  "em",
      "font", "i",      "ins",    "kbd", "mark", "q",    "s",   "samp", "small",
      "span", "strike", "strong", "sub", "sup",  "tt",   "u",   "var"};
  return kNames->contains(name);
}

bool IsTextSpaceAt(absl::string_view s, size_t i, size_t& length) {
  if (absl::ascii_isspace(static_cast<unsigned char>(s[i]))) {
    length = 1;
    return true;
  }
  if (s.substr(i, 2) == "\xC2\xA0") {  // no-break space
    length = 2;
    return true;
  }
  return false;
}

}  // namespace

bool IsSafeUrl(absl::string_view url) {
  // Browsers ignore tabs and newlines anywhere in a URL and control characters
  // around it; ignoring every byte up to space finds any scheme they would.
  std::string compact;
  for (char c : url) {
    if (static_cast<unsigned char>(c) > 0x20 && c != 0x7F) compact += c;
  }
  const size_t colon = compact.find(':');
  if (colon == std::string::npos) return true;
  const size_t path_start = compact.find_first_of("/?#");
  if (path_start < colon) return true;  // a relative path, query or fragment with a ':' later
  const std::string scheme = absl::AsciiStrToLower(absl::string_view(compact).substr(0, colon));
  return scheme == "http" || scheme == "https" || scheme == "mailto" || scheme == "ftp";
}

std::string SanitizeHtml(absl::string_view html) {
  return SanitizeHtml(html, [](absl::string_view url, UrlKind) { return std::string(url); });
}

std::string SanitizeHtml(absl::string_view html, UrlRewriter rewrite_url) {
  std::string out;
  out.reserve(html.size() + html.size() / 8);
  std::vector<const ElementSpec*> open;
  ContentDropper dropper;
  Tokenizer tokenizer(html);
  Token token;
  while (tokenizer.Next(token)) {
    if (dropper.Discards(token)) continue;
    switch (token.kind) {
      case Token::Kind::kText:
        AppendClean(DecodeReferences(token.text), Escape::kText, out);
        break;
      case Token::Kind::kStartTag: {
        const ElementSpec* element = FindElement(token.name);
        if (element == nullptr) break;
        if (!element->is_void && open.size() >= static_cast<size_t>(kMaxDepth)) break;
        AppendStartTag(*element, token, rewrite_url, out);
        if (!element->is_void) open.push_back(element);
        break;
      }
      case Token::Kind::kEndTag: {
        const ElementSpec* element = FindElement(token.name);
        if (element == nullptr || element->is_void) break;
        auto match = std::find(open.rbegin(), open.rend(), element);
        if (match == open.rend()) break;
        // Close what was left open inside it, as browsers do.
        const size_t remaining = static_cast<size_t>(open.rend() - match) - 1;
        while (open.size() > remaining) {
          absl::StrAppend(&out, "</", open.back()->name, ">");
          open.pop_back();
        }
        break;
      }
    }
  }
  while (!open.empty()) {
    absl::StrAppend(&out, "</", open.back()->name, ">");
    open.pop_back();
  }
  return out;
}

std::string HtmlToText(absl::string_view html) {
  std::string raw;
  ContentDropper dropper;
  Tokenizer tokenizer(html);
  Token token;
  while (tokenizer.Next(token)) {
    if (dropper.Discards(token)) continue;
    if (token.kind == Token::Kind::kText) {
      AppendClean(DecodeReferences(token.text), Escape::kNone, raw);
    } else if (!IsInlineElement(token.name)) {
      raw += ' ';
    }
  }
  std::string text;
  text.reserve(raw.size());
  bool pending_space = false;
  for (size_t i = 0; i < raw.size();) {
    size_t length;
    if (IsTextSpaceAt(raw, i, length)) {
      pending_space = true;
      i += length;
      continue;
    }
    if (pending_space && !text.empty()) text += ' ';
    pending_space = false;
    text += raw[i++];
  }
  return text;
}

}  // namespace pgxn::indexer
