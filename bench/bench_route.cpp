// Route lookup against a state-sized directory: the cost per message with 10 and with
// 1,000,000 directory entries (targets: p99 ≤ 2 µs, throughput flat from 10 to 10^6),
// what an entry costs in memory (≤ 200 bytes) and how long a directory takes to load
// (≤ 2 s for 10^6). Counters: bytes_per_entry, load_seconds.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <cstdio>
#include <random>

#include "gateway/route/router.h"
#include "tests/support/files.h"

namespace {

using namespace xoev;

const char* kDestinations[] = {"standesamt-wiesbaden", "meldewesen-hessen", "catch-all"};

struct Fixture {
  test::TempDir dir{"xoev-bench-route-"};
  Config config;
  std::shared_ptr<const RoutingDirectory> directory;
  double load_seconds = 0;
  double bytes_per_entry = 0;

  explicit Fixture(int entries) {
    for (const char* id : kDestinations) {
      DestinationSection d;
      d.id = id;
      d.topic = std::string("xoev.") + id;
      config.destinations.push_back(d);
    }
    RouteSection catch_all;  // the usual hand-written rules beside the directory
    catch_all.name = "catch-all";
    catch_all.destination = "catch-all";
    RouteSection hessen;
    hessen.name = "hessen";
    hessen.match.region = "06";
    hessen.destination = "meldewesen-hessen";
    config.routes = {catch_all, hessen};
    config.routing.prefix_codelist = std::filesystem::path(XOEV_SOURCE_DIR) / "schemas/codelists/dvdv.praefix_51.xml";
    std::string csv = "reader,destination\n";
    char line[64];
    for (int i = 0; i < entries; ++i) {
      std::snprintf(line, sizeof line, "psw:%08d,%s\n", i, kDestinations[i % 2]);
      csv += line;
    }
    test::write_file(dir.path / "d.csv", csv);
    config.routing.directory = {dir.path / "d.csv"};
    const auto heap = [] { const auto m = mallinfo2(); return m.uordblks + m.hblkhd; };
    const auto heap_before = heap();
    const auto start = std::chrono::steady_clock::now();
    std::vector<Problem> problems;
    directory = RoutingDirectory::load(config, problems);
    load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bytes_per_entry = static_cast<double>(heap() - heap_before) / entries;
    if (!problems.empty()) std::abort();
  }
};

void BM_RouteLookup(benchmark::State& state) {
  const int entries = static_cast<int>(state.range(0));
  static std::map<int, std::unique_ptr<Fixture>> fixtures;
  auto& f = fixtures[entries];
  if (!f) f = std::make_unique<Fixture>(entries);
  Router router(f->config, f->directory);
  std::mt19937 random(42);
  std::uniform_int_distribution<int> pick(0, entries - 1);
  std::vector<RoutingHeader> headers(1024);
  char reader[32];
  for (auto& h : headers) {
    std::snprintf(reader, sizeof reader, "psw:%08d", pick(random));
    h.reader = reader;
    h.standard = "XPersonenstand";
    h.message_type.code = "0100";
  }
  size_t i = 0;
  for (auto _ : state) {
    auto d = router.route(headers[i++ & 1023]);
    benchmark::DoNotOptimize(d);
  }
  // Google Benchmark reports means; the target is a tail, so time lookups one by one.
  std::vector<double> samples(20000);
  for (size_t k = 0; k < samples.size(); ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    auto d = router.route(headers[k & 1023]);
    benchmark::DoNotOptimize(d);
    samples[k] = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  }
  std::nth_element(samples.begin(), samples.begin() + samples.size() * 99 / 100, samples.end());
  state.counters["p99_ns"] = samples[samples.size() * 99 / 100];
  state.counters["bytes_per_entry"] = f->bytes_per_entry;
  state.counters["load_seconds"] = f->load_seconds;
}
BENCHMARK(BM_RouteLookup)->Arg(10)->Arg(1000)->Arg(1000000)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
