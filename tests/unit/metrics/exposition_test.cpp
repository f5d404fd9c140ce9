#include "gateway/metrics/exposition.h"

#include <gtest/gtest.h>

#include "gateway/metrics/registry.h"

namespace xoev::metrics {
namespace {

TEST(Exposition, EveryFamilyHasHelpAndTypeOnceBeforeItsSamples) {
  Exposition out;
  out.family("a_total", "Counts a.", MetricType::counter).sample({{"k", "1"}}, 1);
  out.family("b", "B now.", MetricType::gauge).sample({}, 2.5);
  out.family("a_total", "ignored the second time", MetricType::counter).sample({{"k", "2"}}, 3);
  EXPECT_EQ(out.text(),
            "# HELP a_total Counts a.\n# TYPE a_total counter\na_total{k=\"1\"} 1\na_total{k=\"2\"} 3\n"
            "# HELP b B now.\n# TYPE b gauge\nb 2.5\n");
}

TEST(Exposition, FamilyWithoutSamplesStillDeclaresItself) {
  Exposition out;
  out.family("xoevgate_deliveries_total", "Deliveries.", MetricType::counter);
  EXPECT_EQ(out.text(), "# HELP xoevgate_deliveries_total Deliveries.\n# TYPE xoevgate_deliveries_total counter\n");
}

TEST(Exposition, LabelValuesAndHelpAreEscaped) {
  Exposition out;
  out.family("m", "back\\slash\nnew line \"quotes stay\"", MetricType::gauge)
      .sample({{"destination", "a\"b\\c\nd"}, {"z", ""}}, 1);
  EXPECT_EQ(out.text(),
            "# HELP m back\\\\slash\\nnew line \"quotes stay\"\n# TYPE m gauge\n"
            "m{destination=\"a\\\"b\\\\c\\nd\",z=\"\"} 1\n");
}

TEST(Exposition, ValuesAreShortestRoundTripAndSpecialsAreSpelledTheirWay) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(12345678901234.0), "12345678901234");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
}

TEST(Exposition, HistogramWritesCumulativeBucketsInfSumAndCount) {
  Histogram h({0.1, 1});
  h.observe(0.05);
  h.observe(0.1);  // le is "less than or equal": lands in 0.1
  h.observe(0.5);
  h.observe(7);
  Exposition out;
  out.family("d_seconds", "D.", MetricType::histogram).histogram({{"stage", "seal"}}, h.snapshot());
  EXPECT_EQ(out.text(),
            "# HELP d_seconds D.\n# TYPE d_seconds histogram\n"
            "d_seconds_bucket{stage=\"seal\",le=\"0.1\"} 2\n"
            "d_seconds_bucket{stage=\"seal\",le=\"1\"} 3\n"
            "d_seconds_bucket{stage=\"seal\",le=\"+Inf\"} 4\n"
            "d_seconds_sum{stage=\"seal\"} 7.65\n"
            "d_seconds_count{stage=\"seal\"} 4\n");
}

TEST(Registry, RendersCollectorsInOrderAndMergesTheirFamilies) {
  Registry r;
  uint64_t delivered_a = 3, delivered_b = 4;
  r.add([&](Exposition& out) { out.family("x_total", "X.", MetricType::counter).sample({{"d", "a"}}, double(delivered_a)); });
  r.add([&](Exposition& out) { out.family("y", "Y.", MetricType::gauge).sample({}, 1); });
  r.add([&](Exposition& out) { out.family("x_total", "X.", MetricType::counter).sample({{"d", "b"}}, double(delivered_b)); });
  EXPECT_EQ(r.render(),
            "# HELP x_total X.\n# TYPE x_total counter\nx_total{d=\"a\"} 3\nx_total{d=\"b\"} 4\n"
            "# HELP y Y.\n# TYPE y gauge\ny 1\n");
  delivered_a = 5;
  EXPECT_NE(r.render().find("x_total{d=\"a\"} 5\n"), std::string::npos) << "values are read at scrape time";
}

}  // namespace
}  // namespace xoev::metrics
