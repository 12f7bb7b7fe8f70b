#include "gateway/multipart.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pgxn::gateway {
namespace {

constexpr size_t kMaxBoundaryLength = 70;  // RFC 2046 §5.1.1

// A header value of the form `type; name=value; name="quoted value"`.
struct ParameterizedValue {
  std::string value;
  std::vector<std::pair<std::string, std::string>> parameters;  // names lower-cased

  const std::string* Find(absl::string_view name) const {
    for (const auto& [key, parameter_value] : parameters) {
      if (key == name) return &parameter_value;
    }
    return nullptr;
  }
};

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

void SkipSpaces(absl::string_view in, size_t& pos) {
  while (pos < in.size() && IsSpace(in[pos])) ++pos;
}

// `what` names the header in error messages.
absl::StatusOr<ParameterizedValue> ParseParameterizedValue(absl::string_view header,
                                                           absl::string_view what) {
  ParameterizedValue result;
  size_t pos = header.find(';');
  result.value = std::string(absl::StripAsciiWhitespace(header.substr(0, pos)));
  while (pos < header.size()) {
    ++pos;  // the ';'
    SkipSpaces(header, pos);
    if (pos == header.size()) break;
    if (header[pos] == ';') continue;
    const size_t eq = header.find_first_of("=;", pos);
    if (eq == absl::string_view::npos || header[eq] != '=') {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has a parameter without '=': \"", absl::CEscape(header), "\""));
    }
    std::string name =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(header.substr(pos, eq - pos)));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has a parameter without a name: \"", absl::CEscape(header), "\""));
    }
    pos = eq + 1;
    SkipSpaces(header, pos);
    std::string value;
    if (pos < header.size() && header[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < header.size()) {
        const char c = header[pos++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && pos < header.size()) {
          value.push_back(header[pos++]);
        } else {
          value.push_back(c);
        }
      }
      if (!closed) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " has an unterminated quoted string in parameter \"", name, "\": \"",
                         absl::CEscape(header), "\""));
      }
      SkipSpaces(header, pos);
      if (pos < header.size() && header[pos] != ';') {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " has text after the quoted value of parameter \"", name, "\": \"",
                         absl::CEscape(header), "\""));
      }
    } else {
      const size_t end = std::min(header.find(';', pos), header.size());
      value = std::string(absl::StripTrailingAsciiWhitespace(header.substr(pos, end - pos)));
      pos = end;
    }
    result.parameters.emplace_back(std::move(name), std::move(value));
  }
  return result;
}

// Fills `part` from the header block of part number `index` (1-based).
absl::Status ParsePartHeaders(absl::string_view headers, size_t index, FormPart& part) {
  bool has_disposition = false;
  for (absl::string_view line : absl::StrSplit(headers, "\r\n", absl::SkipEmpty())) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0 || IsSpace(line[0])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Multipart part ", index, " has a malformed header line: \"", absl::CEscape(line), "\""));
    }
    const absl::string_view name = absl::StripTrailingAsciiWhitespace(line.substr(0, colon));
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "Content-Type")) {
      part.content_type = std::string(value);
    } else if (absl::EqualsIgnoreCase(name, "Content-Disposition")) {
      absl::StatusOr<ParameterizedValue> disposition = ParseParameterizedValue(
          value, absl::StrCat("Content-Disposition of multipart part ", index));
      if (!disposition.ok()) return disposition.status();
      if (!absl::EqualsIgnoreCase(disposition->value, "form-data")) {
        return absl::InvalidArgumentError(
            absl::StrCat("Multipart part ", index, " has Content-Disposition \"",
                         absl::CEscape(disposition->value), "\", not \"form-data\""));
      }
      const std::string* part_name = disposition->Find("name");
      if (part_name == nullptr || part_name->empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("Multipart part ", index, " has no name in its Content-Disposition"));
      }
      part.name = *part_name;
      const std::string* filename = disposition->Find("filename");
      part.filename = filename == nullptr ? "" : *filename;
      has_disposition = true;
    }
  }
  if (!has_disposition) {
    return absl::InvalidArgumentError(
        absl::StrCat("Multipart part ", index, " has no Content-Disposition header"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<FormPart>> ParseMultipartForm(absl::string_view content_type_header,
                                                         absl::string_view body, size_t max_parts) {
  absl::StatusOr<ParameterizedValue> content_type =
      ParseParameterizedValue(content_type_header, "Content-Type");
  if (!content_type.ok()) return content_type.status();
  if (!absl::EqualsIgnoreCase(content_type->value, "multipart/form-data")) {
    return absl::InvalidArgumentError(
        absl::StrCat("Content-Type must be multipart/form-data, not \"",
                     absl::CEscape(content_type->value), "\""));
  }
  const std::string* boundary = content_type->Find("boundary");
  if (boundary == nullptr || boundary->empty()) {
    return absl::InvalidArgumentError("Content-Type multipart/form-data has no boundary parameter");
  }
  if (boundary->size() > kMaxBoundaryLength ||
      boundary->find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("Multipart boundary must be 1 to 70 characters on one line, not \"",
                     absl::CEscape(*boundary), "\""));
  }
  const std::string delimiter = absl::StrCat("--", *boundary);
  const std::string crlf_delimiter = absl::StrCat("\r\n", delimiter);

  size_t pos;
  if (absl::StartsWith(body, delimiter)) {
    pos = delimiter.size();
  } else {
    const size_t first = body.find(crlf_delimiter);
    if (first == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("Multipart body has no boundary \"", absl::CEscape(delimiter), "\""));
    }
    pos = first + crlf_delimiter.size();
  }

  std::vector<FormPart> parts;
  // Invariant at the top of the loop: `pos` is just past a delimiter.
  while (true) {
    if (body.substr(pos, 2) == "--") return parts;  // the epilogue is ignored
    SkipSpaces(body, pos);                          // transport padding
    if (body.substr(pos, 2) != "\r\n") {
      return absl::InvalidArgumentError(
          absl::StrCat("Multipart boundary \"", absl::CEscape(delimiter),
                       "\" is not followed by CRLF or \"--\" at byte ", pos));
    }
    pos += 2;
    if (parts.size() == max_parts) {
      return absl::InvalidArgumentError(
          absl::StrCat("Multipart body has more than ", max_parts, " parts"));
    }
    const size_t index = parts.size() + 1;

    absl::string_view headers;
    size_t data_start;
    if (body.substr(pos, 2) == "\r\n") {
      data_start = pos + 2;
    } else {
      const size_t blank = body.find("\r\n\r\n", pos);
      if (blank == absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("Multipart part ", index, " has no blank line after its headers"));
      }
      headers = body.substr(pos, blank - pos);
      if (absl::StrContains(headers, crlf_delimiter)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Multipart part ", index, " has no blank line after its headers"));
      }
      data_start = blank + 4;
    }

    FormPart part;
    if (absl::Status status = ParsePartHeaders(headers, index, part); !status.ok()) return status;

    const size_t next = body.find(crlf_delimiter, data_start);
    if (next == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Multipart body is missing the final boundary \"", absl::CEscape(delimiter), "--\""));
    }
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    pos = next + crlf_delimiter.size();
  }
}

const FormPart* FindPart(const std::vector<FormPart>& parts, absl::string_view name) {
  for (const FormPart& part : parts) {
    if (part.name == name) return &part;
  }
  return nullptr;
}

}  // namespace pgxn::gateway
