#include "base/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pgxn::base {

absl::StatusOr<HostPort> ParseHostPort(absl::string_view value) {
  auto invalid = [value](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("\"", value, "\" is not HOST:PORT: ", why));
  };
  HostPort result;
  absl::string_view port;
  if (!value.empty() && value.front() == '[') {
    size_t close = value.find(']');
    if (close == absl::string_view::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      return invalid("unterminated IPv6 address");
    }
    result.host = std::string(value.substr(1, close - 1));
    port = value.substr(close + 2);
  } else {
    size_t colon = value.rfind(':');
    if (colon == absl::string_view::npos) return invalid("no port");
    result.host = std::string(value.substr(0, colon));
    port = value.substr(colon + 1);
    if (result.host.find(':') != std::string::npos) return invalid("put IPv6 hosts in brackets");
  }
  if (result.host.empty()) return invalid("no host");
  uint32_t number = 0;
  if (port.empty() || !absl::SimpleAtoi(port, &number) || number > 65535) {
    return invalid("the port must be a number from 0 to 65535");
  }
  result.port = static_cast<uint16_t>(number);
  return result;
}

std::string ClientKey(absl::string_view ip) {
  const std::string text(ip);
  in6_addr address;
  if (text.find(':') == std::string::npos || inet_pton(AF_INET6, text.c_str(), &address) != 1) {
    return text;
  }
  char out[INET6_ADDRSTRLEN];
  if (IN6_IS_ADDR_V4MAPPED(&address)) {
    in_addr v4;
    std::memcpy(&v4, &address.s6_addr[12], sizeof(v4));
    return inet_ntop(AF_INET, &v4, out, sizeof(out)) != nullptr ? std::string(out) : text;
  }
  std::memset(&address.s6_addr[8], 0, 8);
  if (inet_ntop(AF_INET6, &address, out, sizeof(out)) == nullptr) return text;
  return absl::StrCat(out, "/64");
}

}  // namespace pgxn::base
