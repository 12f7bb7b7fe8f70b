#include "feed/node_report.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

v1::NodeReport Good() {
  v1::NodeReport report;
  report.set_node_id("0123456789abcdef");
  report.set_role("mirror");
  report.set_version("0.1.0");
  report.set_upstream("127.0.0.1:7001");
  report.set_applied_seq(7);
  report.set_lag_seconds(1.5);
  report.set_report_interval_seconds(30);
  return report;
}

absl::Status CheckOne(const v1::NodeReport& report) {
  v1::ReportRequest request;
  *request.add_reports() = report;
  return CheckReportRequest(request);
}

TEST(CheckReportRequestTest, AcceptsAWellFormedReport) {
  absl::Status s = CheckOne(Good());
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(CheckReportRequest(v1::ReportRequest()).ok());
}

TEST(CheckReportRequestTest, RefusesMalformedFieldsNamingThem) {
  struct Case {
    std::string name;
    std::function<void(v1::NodeReport*)> spoil;
    std::string message;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Case cases[] = {
      {"short id", [](v1::NodeReport* r) { r->set_node_id("abc"); },
       "Report 0: node_id is not 8 to 64 of [0-9a-z-]"},
      {"upper-case id", [](v1::NodeReport* r) { r->set_node_id("ABCDEFGHIJ"); },
       "Report 0: node_id is not 8 to 64 of [0-9a-z-]"},
      {"long id", [](v1::NodeReport* r) { r->set_node_id(std::string(65, 'a')); },
       "Report 0: node_id is not 8 to 64 of [0-9a-z-]"},
      {"long role", [](v1::NodeReport* r) { r->set_role(std::string(17, 'a')); },
       "Report 0: role is longer than 16 bytes"},
      {"long upstream", [](v1::NodeReport* r) { r->set_upstream(std::string(257, 'a')); },
       "Report 0: upstream is longer than 256 bytes"},
      {"bad UTF-8", [](v1::NodeReport* r) { r->set_version("\xff"); },
       "Report 0: version is not UTF-8"},
      {"control", [](v1::NodeReport* r) { r->set_public_url("http://x\n"); },
       "Report 0: public_url has a control character"},
      {"NaN lag", [nan](v1::NodeReport* r) { r->set_lag_seconds(nan); },
       "Report 0: lag_seconds is not a number of seconds"},
      {"negative age", [](v1::NodeReport* r) { r->set_age_seconds(-1); },
       "Report 0: age_seconds is not a number of seconds"},
      {"huge interval", [](v1::NodeReport* r) { r->set_report_interval_seconds(1e300); },
       "Report 0: report_interval_seconds is not a number of seconds"},
      {"bad via", [](v1::NodeReport* r) { r->add_via("no"); },
       "Report 0: via holds something that is not a node id"},
      {"long via",
       [](v1::NodeReport* r) {
         for (int i = 0; i < 17; ++i) r->add_via("0123456789abcdef");
       },
       "Report 0: via lists more than 16 relays"},
  };
  for (const Case& c : cases) {
    v1::NodeReport report = Good();
    c.spoil(&report);
    absl::Status s = CheckOne(report);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << c.name << ": " << s;
    EXPECT_EQ(s.message(), c.message) << c.name;
  }
}

TEST(CheckReportRequestTest, RefusesTooManyReports) {
  v1::ReportRequest request;
  for (size_t i = 0; i <= kMaxReportsPerRequest; ++i) *request.add_reports() = Good();
  absl::Status s = CheckReportRequest(request);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "A Report call carries at most 256 reports, not 257");
}

TEST(ReportRateTest, AdmitsUpToTheRatePerPeerPerMinute) {
  ReportRate rate(2, 10);
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(rate.Admit("a", t0));
  EXPECT_TRUE(rate.Admit("a", t0));
  EXPECT_FALSE(rate.Admit("a", t0 + absl::Seconds(30)));
  EXPECT_TRUE(rate.Admit("b", t0 + absl::Seconds(30)));
  EXPECT_TRUE(rate.Admit("a", t0 + absl::Minutes(1)));
}

TEST(ReportRateTest, BoundsThePeersTrackedInAMinute) {
  ReportRate rate(5, 2);
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(rate.Admit("a", t0));
  EXPECT_TRUE(rate.Admit("b", t0));
  EXPECT_FALSE(rate.Admit("c", t0));
  EXPECT_TRUE(rate.Admit("a", t0));
  EXPECT_TRUE(rate.Admit("c", t0 + absl::Minutes(1)));
}

}  // namespace
}  // namespace pgxn::feed
