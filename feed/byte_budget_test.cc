#include "feed/byte_budget.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

// Records the order in which waiters are woken.
class Recorder final : public BudgetWaiter {
 public:
  Recorder(std::string name, std::vector<std::string>* woken)
      : name_(std::move(name)), woken_(woken) {}
  void Wake() override { woken_->push_back(name_); }

 private:
  const std::string name_;
  std::vector<std::string>* const woken_;
};

TEST(ByteBudgetTest, TakesWhatFitsAndOneMessageAlonePastTheLimit) {
  ByteBudget budget(100);
  std::vector<std::string> woken;
  auto a = std::make_shared<Recorder>("a", &woken);
  EXPECT_TRUE(budget.Take(150, "p", a)) << "nothing taken: one message may exceed the limit";
  EXPECT_FALSE(budget.Take(1, "p", a));
  EXPECT_TRUE(budget.Take(0, "p", a)) << "nothing to hold";
  budget.Give(150);
  EXPECT_EQ(woken, std::vector<std::string>{"a"});
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(budget.Take(60, "p", a));
  EXPECT_TRUE(budget.Take(40, "p", a));
  EXPECT_FALSE(budget.Take(1, "p", a));
  EXPECT_EQ(budget.used(), 100u);
}

TEST(ByteBudgetTest, OtherPeersAreWokenBeforeTheOneServedLast) {
  ByteBudget budget(100);
  std::vector<std::string> woken;
  auto crowd1 = std::make_shared<Recorder>("crowd1", &woken);
  auto crowd2 = std::make_shared<Recorder>("crowd2", &woken);
  auto mirror = std::make_shared<Recorder>("mirror", &woken);
  ASSERT_TRUE(budget.Take(100, "crowd", crowd1));
  ASSERT_FALSE(budget.Take(100, "crowd", crowd2));
  ASSERT_FALSE(budget.Take(100, "mirror", mirror));
  budget.Give(100);
  EXPECT_EQ(woken, (std::vector<std::string>{"mirror", "crowd2"}));
}

TEST(ByteBudgetTest, WaitersThatAreGoneAreNotWoken) {
  ByteBudget budget(10);
  std::vector<std::string> woken;
  auto holder = std::make_shared<Recorder>("holder", &woken);
  ASSERT_TRUE(budget.Take(10, "p", holder));
  {
    auto gone = std::make_shared<Recorder>("gone", &woken);
    ASSERT_FALSE(budget.Take(5, "q", gone));
  }
  budget.Give(10);
  EXPECT_TRUE(woken.empty());
}

}  // namespace
}  // namespace pgxn::feed
