#include "pgxnd/flags.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"

namespace pgxn::cli {
namespace {

constexpr char kFlagFileHelp[] =
    "read flags from FILE, one a line (--name=value or --name value; blank lines and "
    "lines starting with # are skipped); flags after it override the file's, and "
    "replace a repeatable flag's values";

}  // namespace

FlagSet::FlagSet(std::string command, std::string usage, std::string summary)
    : command_(std::move(command)), usage_(std::move(usage)), summary_(std::move(summary)) {}

void FlagSet::String(const std::string& name, std::string* value, const std::string& help) {
  flags_.push_back({name, Kind::kString, value, help, *value});
}

void FlagSet::Strings(const std::string& name, std::vector<std::string>* values,
                      const std::string& help) {
  flags_.push_back({name, Kind::kStrings, values, help, ""});
}

void FlagSet::Bool(const std::string& name, bool* value, const std::string& help) {
  flags_.push_back({name, Kind::kBool, value, help, ""});
}

void FlagSet::Uint64(const std::string& name, uint64_t* value, const std::string& help) {
  flags_.push_back({name, Kind::kUint64, value, help, absl::StrCat(*value)});
}

void FlagSet::Bytes(const std::string& name, uint64_t* value, const std::string& help) {
  std::string text = absl::StrCat(*value);
  if (*value != 0 && *value % (1 << 20) == 0) text = absl::StrCat(*value >> 20, "M");
  flags_.push_back({name, Kind::kBytes, value, help, text});
}

void FlagSet::Duration(const std::string& name, absl::Duration* value, const std::string& help) {
  flags_.push_back({name, Kind::kDuration, value, help, absl::FormatDuration(*value)});
}

absl::StatusOr<uint64_t> ParseBytes(const std::string& text) {
  std::string digits = text;
  uint64_t unit = 1;
  if (!digits.empty()) {
    switch (absl::ascii_toupper(digits.back())) {
      case 'K':
        unit = uint64_t{1} << 10;
        break;
      case 'M':
        unit = uint64_t{1} << 20;
        break;
      case 'G':
        unit = uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (unit != 1) digits.pop_back();
  }
  uint64_t number = 0;
  if (!absl::SimpleAtoi(digits, &number) || number > UINT64_MAX / unit) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a size (e.g. 65536, 512K, 64M, 1G)"));
  }
  return number * unit;
}

FlagSet::Flag* FlagSet::Find(const std::string& name) {
  for (Flag& candidate : flags_) {
    if (candidate.name == name) return &candidate;
  }
  return nullptr;
}

absl::Status FlagSet::Set(Flag& flag, const std::string& value, int source) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid value \"", value, "\" for --", flag.name, ": ", why));
  };
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.target) = value;
      return absl::OkStatus();
    case Kind::kStrings: {
      auto* values = static_cast<std::vector<std::string>*>(flag.target);
      if (flag.source != source) values->clear();
      flag.source = source;
      values->push_back(value);
      return absl::OkStatus();
    }
    case Kind::kBool: {
      bool parsed = false;
      if (!absl::SimpleAtob(value, &parsed)) return bad("expected true or false");
      *static_cast<bool*>(flag.target) = parsed;
      return absl::OkStatus();
    }
    case Kind::kUint64:
      if (!absl::SimpleAtoi(value, static_cast<uint64_t*>(flag.target))) {
        return bad("expected a non-negative integer");
      }
      return absl::OkStatus();
    case Kind::kBytes: {
      absl::StatusOr<uint64_t> bytes = ParseBytes(value);
      if (!bytes.ok()) return bad("expected a size such as 64M");
      *static_cast<uint64_t*>(flag.target) = *bytes;
      return absl::OkStatus();
    }
    case Kind::kDuration: {
      absl::Duration duration;
      if (!absl::ParseDuration(value, &duration) || duration < absl::ZeroDuration()) {
        return bad("expected a duration such as 500ms, 2s or 1m");
      }
      *static_cast<absl::Duration*>(flag.target) = duration;
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown flag kind");
}

absl::Status FlagSet::ReadFlagFile(const std::string& path, int source) {
  absl::StatusOr<std::string> contents = base::ReadFile(path);
  // InvalidArgument even for a missing file: NotFound means --help to callers.
  if (!contents.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--flagfile: ", contents.status().message()));
  }
  int number = 0;
  for (absl::string_view line : absl::StrSplit(*contents, '\n')) {
    ++number;
    auto error = [&](absl::string_view message) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": ", message));
    };
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    if (!absl::StartsWith(line, "--") || line.size() == 2) {
      return error(
          absl::StrCat("expected one flag, --name=value or --name value, not \"", line, "\""));
    }
    // The name ends at the first '=' or blank, whichever comes first, so
    // that a value may hold the other ("--sendmail /usr/sbin/sendmail -t").
    const size_t end = line.find_first_of("= \t", 2);
    const std::string name(line.substr(2, end - 2));
    absl::optional<std::string> value;
    if (end != absl::string_view::npos) {
      value = std::string(absl::StripLeadingAsciiWhitespace(line.substr(end + 1)));
      // "--name = value" would set "= value": a slip, not a value.
      if (line[end] != '=' && absl::StartsWith(*value, "=")) {
        return error(
            absl::StrCat("write --", name, "=value or --", name, " value, not \"", line, "\""));
      }
    }
    if (name == "flagfile") return error("--flagfile cannot be nested in a flag file");
    Flag* flag = Find(name);
    if (flag == nullptr) {
      return error(
          absl::StrCat("Unknown flag --", name, " for ", command_, " (see ", command_, " --help)"));
    }
    if (!value.has_value()) {
      if (flag->kind != Kind::kBool) return error(absl::StrCat("Flag --", name, " needs a value"));
      value = "true";
    }
    if (absl::Status s = Set(*flag, *value, source); !s.ok()) return error(s.message());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FlagSet::Parse(const std::vector<std::string>& args) {
  for (Flag& flag : flags_) flag.source = -1;
  // Sources are numbered in order: the command line before the first flag
  // file is 0, the file 1, the command line after it 2, and so on.
  int source = 0;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      if (absl::StartsWith(arg, "-") && arg != "-") {
        if (arg == "-h") return absl::NotFoundError("help");
        return absl::InvalidArgumentError(
            absl::StrCat("Unknown option ", arg, " for ", command_, " (see --help)"));
      }
      positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    absl::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "help") return absl::NotFoundError("help");
    if (name == "flagfile") {
      if (!value.has_value()) {
        if (i + 1 >= args.size())
          return absl::InvalidArgumentError("Flag --flagfile needs a value");
        value = args[++i];
      }
      if (absl::Status s = ReadFlagFile(*value, ++source); !s.ok()) return s;
      ++source;
      continue;
    }
    Flag* flag = Find(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("Unknown flag --", name, " for ", command_, " (see ", command_, " --help)"));
    }
    if (!value.has_value()) {
      if (flag->kind == Kind::kBool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("Flag --", name, " needs a value"));
      }
    }
    if (absl::Status s = Set(*flag, *value, source); !s.ok()) return s;
  }
  return positional;
}

std::string FlagSet::Help() const {
  std::string out = absl::StrCat("Usage: ", command_, " ", usage_, "\n\n", summary_, "\n");
  out += "\nFlags:\n";
  for (const Flag& flag : flags_) {
    std::string left = absl::StrCat("  --", flag.name);
    switch (flag.kind) {
      case Kind::kBool:
        break;
      case Kind::kBytes:
        absl::StrAppend(&left, " SIZE");
        break;
      case Kind::kDuration:
        absl::StrAppend(&left, " DURATION");
        break;
      case Kind::kUint64:
        absl::StrAppend(&left, " N");
        break;
      default:
        absl::StrAppend(&left, " VALUE");
    }
    if (left.size() < 26)
      left.resize(26, ' ');
    else
      absl::StrAppend(&left, "\n", std::string(26, ' '));
    std::string help = flag.help;
    if (!flag.default_text.empty()) absl::StrAppend(&help, " (default ", flag.default_text, ")");
    absl::StrAppend(&out, left, help, "\n");
  }
  absl::StrAppend(&out, "  --flagfile FILE         ", kFlagFileHelp, "\n");
  return out;
}

}  // namespace pgxn::cli
