// The Prometheus text exposition format 0.0.4: families in the order they were first
// named, each with `# HELP` and `# TYPE` once, then all its samples — also when
// several collectors add samples to one family (e.g. one deliverer each). Label
// values and help texts are escaped, so no value can break a line or a quote.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/metrics/histogram.h"
#include "gateway/metrics/labels.h"

namespace xoev::metrics {

enum class MetricType { counter, gauge, histogram };

class Family {
 public:
  // A counter or gauge sample.
  Family& sample(const Labels& labels, double value);
  // A histogram's _bucket (cumulative, with le="+Inf"), _sum and _count lines.
  Family& histogram(const Labels& labels, const Histogram::Snapshot& h);

 private:
  friend class Exposition;
  Family(std::string name, std::string help, MetricType type);
  void line(std::string_view suffix, const Labels& labels, double value, const std::pair<std::string, std::string>* extra);

  std::string name_, help_;
  MetricType type_;
  std::string samples_;
};

class Exposition {
 public:
  // The family `name`, created with `help` and `type` the first time.
  Family& family(const std::string& name, std::string help, MetricType type);
  std::string text() const;

 private:
  std::deque<Family> families_;  // a deque: references stay valid as families are added
  std::map<std::string, size_t, std::less<>> index_;
};

// Prometheus escaping: label values escape \ " and newline; help texts \ and newline.
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
// Shortest round-trip decimal; +Inf, -Inf and NaN as Prometheus writes them.
std::string format_value(double v);

}  // namespace xoev::metrics
