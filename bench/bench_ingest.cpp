// The accept path per message without the broker: parse + detect + extract +
// validate (inspect), route, and seal (JWE ECDH-ES P-256 + ES256 JWS), on the real
// samples. Shows where a message's CPU time goes before Kafka.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/crypto/envelope_seal.h"
#include "gateway/ingest/gateway_snapshot.h"
#include "tests/support/files.h"

using namespace xoev;
namespace fs = std::filesystem;

namespace {


struct Fixture {
  Config config;
  std::unique_ptr<MessageInspector> inspector;
  std::unique_ptr<Router> router;
  crypto::KeyRing recipients;
  std::unique_ptr<crypto::Jwk> signer;
  std::vector<std::string> samples;

  Fixture() {
    config.schema_catalog = fs::path(XOEV_SOURCE_DIR) / "schemas/catalog.yaml";
    DestinationSection d;
    d.id = "d";
    d.topic = "xoev.d";
    config.destinations.push_back(d);
    RouteSection r;
    r.name = "all";
    r.destination = "d";
    config.routes.push_back(r);
    inspector = std::make_unique<MessageInspector>(*make_inbound_adapters(config), *load_schema_catalog(config), 64u << 20);
    router = std::make_unique<Router>(config);
    (void)recipients.add(*crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "d", "ECDH-ES+A256KW"));
    signer = std::make_unique<crypto::Jwk>(*crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "gw", "ES256"));
    const fs::path td = XOEV_TESTDATA_DIR;
    for (const char* f : {"xbeteiligung/tests/res/example402FromCockpit.xml", "xwasser/tests/quality_report_minimal.xml",
                          "xwasser/tests/quality_report_maximal.xml",
                          "xrechnung/instances/kosit/business-cases/standard/01.01a-INVOICE_ubl.xml"})
      samples.push_back(xoev::test::read_file(td / f));
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_Inspect(benchmark::State& state) {
  auto& f = fixture();
  const auto& s = f.samples[static_cast<size_t>(state.range(0))];
  for (auto _ : state) benchmark::DoNotOptimize(f.inspector->accept(s));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_Inspect)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

void BM_InspectRouteSeal(benchmark::State& state) {
  auto& f = fixture();
  const auto& s = f.samples[static_cast<size_t>(state.range(0))];
  for (auto _ : state) {
    auto i = f.inspector->accept(s);
    auto d = f.router->route(i->header);
    Envelope env;
    env.topic = d->destination->topic;
    env.key = i->header.message_id;
    for (auto h : header::signed_headers) env.set(h, "x");
    env.value = s;
    benchmark::DoNotOptimize(crypto::seal(env, f.recipients, *f.signer));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_InspectRouteSeal)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
