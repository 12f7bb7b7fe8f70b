#include "replica/reporter.h"

#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"

namespace pgxn::replica {
namespace {

namespace v1 = ::pgxn::feed::v1;

v1::NodeReport Child(const std::string& id) {
  v1::NodeReport report;
  report.set_node_id(id);
  report.set_role("mirror");
  report.set_applied_seq(3);
  return report;
}

class ReporterTest : public ::testing::Test {
 protected:
  Reporter Make(bool report_self, size_t max_held = 10) {
    ReporterOptions options;
    options.interval = absl::Seconds(5);
    options.report_self = report_self;
    options.max_held = max_held;
    return Reporter(
        options, "11111111",
        [] {
          v1::NodeReport own;
          own.set_role("mirror");
          own.set_applied_seq(9);
          return own;
        },
        [](const v1::ReportRequest&) { return absl::OkStatus(); }, [this] { return now_; });
  }
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

TEST_F(ReporterTest, SendsItsOwnReportThenItsChildrensWithItselfInVia) {
  Reporter reporter = Make(true);
  reporter.Accept({Child("22222222")});
  now_ += absl::Seconds(2);
  std::vector<v1::ReportRequest> round = reporter.TakeRound();
  ASSERT_EQ(round.size(), 1u);
  ASSERT_EQ(round[0].reports_size(), 2);
  EXPECT_EQ(round[0].reports(0).node_id(), "11111111");
  EXPECT_EQ(round[0].reports(0).applied_seq(), 9u);
  EXPECT_EQ(round[0].reports(0).report_interval_seconds(), 5);
  EXPECT_EQ(round[0].reports(1).node_id(), "22222222");
  ASSERT_EQ(round[0].reports(1).via_size(), 1);
  EXPECT_EQ(round[0].reports(1).via(0), "11111111");
  EXPECT_EQ(round[0].reports(1).age_seconds(), 2);
  // Children's reports go once.
  EXPECT_EQ(reporter.TakeRound()[0].reports_size(), 1);
}

TEST_F(ReporterTest, WithoutReportingItselfStillRelaysItsChildren) {
  Reporter reporter = Make(false);
  EXPECT_TRUE(reporter.TakeRound().empty());
  reporter.Accept({Child("22222222")});
  std::vector<v1::ReportRequest> round = reporter.TakeRound();
  ASSERT_EQ(round.size(), 1u);
  ASSERT_EQ(round[0].reports_size(), 1);
  EXPECT_EQ(round[0].reports(0).node_id(), "22222222");
  EXPECT_EQ(round[0].reports(0).via_size(), 0);
}

TEST_F(ReporterTest, DropsLoopsAndBoundsWhatItHolds) {
  Reporter reporter = Make(true, /*max_held=*/2);
  v1::NodeReport looped = Child("33333333");
  looped.add_via("11111111");
  reporter.Accept({Child("11111111"), looped, Child("44444444"), Child("55555555"),
                   Child("66666666")});
  std::vector<v1::ReportRequest> round = reporter.TakeRound();
  ASSERT_EQ(round.size(), 1u);
  EXPECT_EQ(round[0].reports_size(), 3);  // its own and two children
}

TEST_F(ReporterTest, SplitsLargeRoundsIntoBoundedCalls) {
  Reporter reporter = Make(true, 1000);
  std::vector<v1::NodeReport> children;
  for (int i = 0; i < 300; ++i) children.push_back(Child(absl::StrCat("child", 1000 + i)));
  reporter.Accept(children);
  std::vector<v1::ReportRequest> round = reporter.TakeRound();
  ASSERT_EQ(round.size(), 2u);
  EXPECT_EQ(round[0].reports_size(), 256);
  EXPECT_EQ(round[1].reports_size(), 45);
}

TEST(NodeIdTest, IsCreatedOnceAndKept) {
  base::TempDir dir;
  absl::StatusOr<std::string> first = LoadOrCreateNodeId(dir.path());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(feed::IsNodeId(*first)) << *first;
  absl::StatusOr<std::string> again = LoadOrCreateNodeId(dir.path());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *first);
}

}  // namespace
}  // namespace pgxn::replica
