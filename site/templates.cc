#include "site/templates.h"

#include <kainjow/mustache.hpp>

#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"

namespace pgxn::site {
namespace {

namespace mustache = ::kainjow::mustache;

mustache::data ToData(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      mustache::data object{mustache::data::type::object};
      for (const auto& [key, member] : value.items()) {
        object.set(key, ToData(member));
        if (member.is_array()) object.set("has_" + key, mustache::data{!member.empty()});
      }
      return object;
    }
    case nlohmann::json::value_t::array: {
      mustache::data list{mustache::data::type::list};
      for (const nlohmann::json& item : value) list.push_back(ToData(item));
      return list;
    }
    case nlohmann::json::value_t::string:
      // "" is false, as in Mustache's JavaScript origin: {{#abstract}}…
      // leaves out what an author left empty, and {{abstract}} prints "".
      if (value.get_ref<const std::string&>().empty()) return mustache::data{false};
      return mustache::data{value.get<std::string>()};
    case nlohmann::json::value_t::boolean:
      return mustache::data{value.get<bool>()};
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return mustache::data{false};
    default:
      return mustache::data{value.dump()};
  }
}

}  // namespace

// Parsed copies of one template; a render borrows one.
class Templates::Pool {
 public:
  explicit Pool(std::string text) : text_(std::move(text)) {}

  absl::Status Check(absl::string_view name) {
    auto parsed = std::make_unique<mustache::mustache>(text_);
    if (!parsed->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("template ", name, ": ", parsed->error_message()));
    }
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(parsed));
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Render(absl::string_view name, const mustache::data& data) {
    std::unique_ptr<mustache::mustache> parsed;
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        parsed = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (parsed == nullptr) parsed = std::make_unique<mustache::mustache>(text_);
    std::string out = parsed->render(data);
    if (!parsed->is_valid()) {
      return absl::InternalError(
          absl::StrCat("template ", name, ": ", parsed->error_message()));
    }
    absl::MutexLock lock(&mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(parsed));
    return out;
  }

 private:
  static constexpr size_t kMaxIdle = 16;
  const std::string text_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<mustache::mustache>> idle_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<Templates>> Templates::Load(
    const std::map<std::string, std::string>& files) {
  auto templates = std::unique_ptr<Templates>(new Templates());
  for (const auto& [path, text] : files) {
    absl::string_view name = path;
    if (!absl::ConsumePrefix(&name, "templates/") || !absl::ConsumeSuffix(&name, ".mustache")) {
      continue;
    }
    auto pool = std::make_unique<Pool>(text);
    if (absl::Status s = pool->Check(name); !s.ok()) return s;
    templates->pools_.emplace(std::string(name), std::move(pool));
  }
  return templates;
}

Templates::~Templates() = default;

absl::StatusOr<std::string> Templates::Render(absl::string_view name,
                                              const nlohmann::json& data) const {
  auto it = pools_.find(name);
  if (it == pools_.end()) return absl::NotFoundError(absl::StrCat("no template ", name));
  return it->second->Render(name, ToData(data));
}

}  // namespace pgxn::site
