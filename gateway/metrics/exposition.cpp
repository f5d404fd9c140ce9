#include "gateway/metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace xoev::metrics {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc{}) return "NaN";
  return std::string(buf, end);
}

Family::Family(std::string name, std::string help, MetricType type)
    : name_(std::move(name)), help_(std::move(help)), type_(type) {}

void Family::line(std::string_view suffix, const Labels& labels, double value,
                  const std::pair<std::string, std::string>* extra) {
  samples_ += name_;
  samples_ += suffix;
  if (!labels.empty() || extra) {
    samples_ += '{';
    bool first = true;
    auto add = [&](const std::pair<std::string, std::string>& l) {
      if (!first) samples_ += ',';
      first = false;
      samples_ += l.first;
      samples_ += "=\"";
      samples_ += escape_label_value(l.second);
      samples_ += '"';
    };
    for (const auto& l : labels) add(l);
    if (extra) add(*extra);
    samples_ += '}';
  }
  samples_ += ' ';
  samples_ += format_value(value);
  samples_ += '\n';
}

Family& Family::sample(const Labels& labels, double value) {
  line("", labels, value, nullptr);
  return *this;
}

Family& Family::histogram(const Labels& labels, const Histogram::Snapshot& h) {
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    const std::pair<std::string, std::string> le{
        "le", i < h.upper_bounds.size() ? format_value(h.upper_bounds[i]) : std::string("+Inf")};
    line("_bucket", labels, static_cast<double>(h.cumulative[i]), &le);
  }
  line("_sum", labels, h.sum, nullptr);
  line("_count", labels, static_cast<double>(h.count), nullptr);
  return *this;
}

Family& Exposition::family(const std::string& name, std::string help, MetricType type) {
  if (auto it = index_.find(name); it != index_.end()) return families_[it->second];
  index_.emplace(name, families_.size());
  families_.push_back(Family(name, std::move(help), type));
  return families_.back();
}

std::string Exposition::text() const {
  static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
  std::string out;
  for (const auto& f : families_) {
    out.append("# HELP ").append(f.name_).append(" ").append(escape_help(f.help_)).append("\n");
    out.append("# TYPE ").append(f.name_).append(" ").append(kTypeNames[static_cast<int>(f.type_)]).append("\n");
    out += f.samples_;
  }
  return out;
}

}  // namespace xoev::metrics
