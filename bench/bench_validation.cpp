// Schema validation cost of xoevgate against a bare libxml2 loop over the same real
// samples and the same compiled schemas (target: our overhead ≤ 10 %), and the cost
// of XRechnung header extraction relative to validating the same invoices (≤ 5 %).
// Documents are parsed once up front; only validation / extraction is timed.
#include <benchmark/benchmark.h>
#include <libxml/xmlschemas.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "adapters/inbound/xrechnung/xrechnung_adapter.h"
#include "gateway/schema/schema_catalog.h"

namespace {

namespace fs = std::filesystem;
using namespace xoev;

struct Sample {
  XmlDocument doc;
  const SchemaEntry* entry;
  bool invoice;
};

struct Corpus {
  std::shared_ptr<const SchemaCatalog> catalog;
  std::vector<Sample> samples;
  std::vector<const Sample*> invoices;
};

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus out;
    auto catalog = SchemaCatalog::load(fs::path(XOEV_SOURCE_DIR) / "schemas" / "catalog.yaml");
    if (!catalog) {
      std::cerr << catalog.problem().one_line() << "\n";
      std::exit(2);
    }
    out.catalog = *catalog;
    std::ifstream tsv(fs::path(XOEV_TESTDATA_DIR) / "verdicts.tsv");
    std::string line;
    std::getline(tsv, line);
    auto adapter = make_xrechnung_adapter();
    while (std::getline(tsv, line)) {
      const std::string file = line.substr(0, line.find('\t'));
      std::ifstream in(fs::path(XOEV_TESTDATA_DIR) / file, std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      auto doc = XmlDocument::parse(bytes.str());
      if (!doc) continue;
      const SchemaEntry* entry = out.catalog->find(*doc);
      if (entry == nullptr) continue;
      // Validating the same tree twice must give the same answer (no state left behind).
      if (out.catalog->validate(*entry, *doc).ok() != out.catalog->validate(*entry, *doc).ok()) {
        std::cerr << file << ": revalidation differs\n";
        std::exit(2);
      }
      const bool invoice = adapter->detect(*doc);
      out.samples.push_back({std::move(doc).value(), entry, invoice});
    }
    for (const auto& s : out.samples)
      if (s.invoice) out.invoices.push_back(&s);
    return out;
  }();
  return c;
}

void ignore_error(void*, xmlErrorPtr) {}

// The reference: what any libxml2 user writes, nothing else.
int bare_validate(const Sample& s) {
  xmlSchemaValidCtxtPtr ctxt = xmlSchemaNewValidCtxt(s.entry->compiled->get());
  xmlSchemaSetValidStructuredErrors(ctxt, ignore_error, nullptr);
  const int rc = xmlSchemaValidateDoc(ctxt, s.doc.doc());
  xmlSchemaFreeValidCtxt(ctxt);
  return rc;
}

// The gateway's path: find the schema by root, validate, collect clerk-readable errors.
bool xoevgate_validate(const Sample& s) {
  const SchemaEntry* entry = corpus().catalog->find(s.doc);
  return corpus().catalog->validate(*entry, s.doc).ok();
}

void BM_ValidateAllSamples_Xoevgate(benchmark::State& state) {
  const auto& c = corpus();
  for (auto _ : state)
    for (const auto& s : c.samples) benchmark::DoNotOptimize(xoevgate_validate(s));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(c.samples.size()));
}
BENCHMARK(BM_ValidateAllSamples_Xoevgate)->Unit(benchmark::kMillisecond);

void BM_ValidateAllSamples_BareLibxml2(benchmark::State& state) {
  const auto& c = corpus();
  for (auto _ : state)
    for (const auto& s : c.samples) benchmark::DoNotOptimize(bare_validate(s));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(c.samples.size()));
}
BENCHMARK(BM_ValidateAllSamples_BareLibxml2)->Unit(benchmark::kMillisecond);

void BM_XRechnungHeaderExtraction(benchmark::State& state) {
  const auto& c = corpus();
  auto adapter = make_xrechnung_adapter();
  for (auto _ : state)
    for (const Sample* s : c.invoices) benchmark::DoNotOptimize(adapter->extract(s->doc).ok());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(c.invoices.size()));
}
BENCHMARK(BM_XRechnungHeaderExtraction)->Unit(benchmark::kMillisecond);

// Both comparisons in one run, interleaved so machine noise hits both sides alike.
void BM_Ratios(benchmark::State& state) {
  using clock = std::chrono::steady_clock;
  const auto& c = corpus();
  auto adapter = make_xrechnung_adapter();
  clock::duration ours{}, bare{}, extract{}, validate_invoices{};
  for (auto _ : state) {
    auto t0 = clock::now();
    for (const auto& s : c.samples) benchmark::DoNotOptimize(xoevgate_validate(s));
    auto t1 = clock::now();
    for (const auto& s : c.samples) benchmark::DoNotOptimize(bare_validate(s));
    auto t2 = clock::now();
    for (const Sample* s : c.invoices) benchmark::DoNotOptimize(adapter->extract(s->doc).ok());
    auto t3 = clock::now();
    for (const Sample* s : c.invoices) benchmark::DoNotOptimize(xoevgate_validate(*s));
    auto t4 = clock::now();
    ours += t1 - t0;
    bare += t2 - t1;
    extract += t3 - t2;
    validate_invoices += t4 - t3;
  }
  const auto ratio = [](clock::duration a, clock::duration b) {
    return 100.0 * static_cast<double>(a.count()) / static_cast<double>(b.count());
  };
  state.counters["overhead_pct"] = ratio(ours, bare) - 100.0;
  state.counters["extraction_pct_of_validation"] = ratio(extract, validate_invoices);
  state.counters["samples"] = static_cast<double>(c.samples.size());
  state.counters["invoices"] = static_cast<double>(c.invoices.size());
}
BENCHMARK(BM_Ratios)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
