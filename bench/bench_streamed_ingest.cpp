// The gateway's own speed for a large submission (issue 10), without Kafka or a
// deliverer on the same cores: a schema-valid xdomea 3.0 Aussonderung fed to
// StreamedSubmission in 256 KiB pieces read from disk — streaming parse and schema
// validation, SHA-256, chunks sealed (JWE ECDH-ES P-256 + ES256) on the stream pool's
// threads — with every record acknowledged at once. bench/large.py runs it on the
// message it sends end to end and sets it beside the baseline.
//
//   XOEV_LARGE_XML=/path/message.xml bench_streamed_ingest
// Without XOEV_LARGE_XML a 32 MB message is generated (tests/tools/large_xdomea.py).
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>

#include "gateway/crypto/jwk.h"
#include "gateway/ingest/gateway_snapshot.h"
#include "gateway/ingest/streamed_submission.h"
#include "gateway/kafka/record_sink.h"
#include "gateway/status/receipt_publisher.h"
#include "tests/support/files.h"

using namespace xoev;
namespace fs = std::filesystem;

namespace {

class AckingSink : public RecordSink {  // the broker's ack at once: Kafka is not measured
 public:
  void produce(Envelope, AckCallback cb) override { cb(BrokerAck{0, offset_++}); }

 private:
  std::atomic<int64_t> offset_{0};
};

struct Setup {
  xoev::test::TempDir dir{"xoev-bench-streamed-"};
  fs::path message;
  std::shared_ptr<const GatewaySnapshot> snapshot;

  Setup() {
    spdlog::set_level(spdlog::level::warn);  // "message accepted" lines would mix with the JSON output
    if (const char* given = std::getenv("XOEV_LARGE_XML")) {
      message = given;
    } else {
      message = dir.path / "message.xml";
      const std::string generate = "/usr/bin/python3 " + std::string(XOEV_SOURCE_DIR) + "/tests/tools/large_xdomea.py 32 " +
                                   message.string() + " --process-id 6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab";
      if (std::system(generate.c_str()) != 0) return;
    }
    const auto signer = *crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "gw", "ES256");
    const auto recipient = *crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "archiv", "ECDH-ES+A256KW");
    xoev::test::write_file(dir.path / "gw.jwk", signer.serialize(true));
    xoev::test::write_file(dir.path / "gw.pub.jwk", signer.public_key().serialize(false));
    xoev::test::write_file(dir.path / "archiv.pub.jwk", recipient.public_key().serialize(false));
    fs::permissions(dir.path / "gw.jwk", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    Config c;
    c.file = dir.path / "gateway.yaml";
    c.schema_catalog = fs::path(XOEV_SOURCE_DIR) / "schemas/catalog.yaml";
    c.keys.signing = dir.path / "gw.jwk";
    c.keys.trusted_gateways = {dir.path / "gw.pub.jwk"};
    StandardSection x;  // as in bench/large.py's configuration
    x.name = "xdomea";
    x.root_namespace = "urn:xoev-de:xdomea:schema:3.0.0";
    x.root_element = "Aussonderung.*";
    x.namespaces = {{"x", "urn:xoev-de:xdomea:schema:3.0.0"}};
    x.id_xpath = "concat(/*/x:Kopf/x:ProzessID, '-', /*/x:Kopf/x:Nachrichtentyp/code)";
    x.type_xpath = "/*/x:Kopf/x:Nachrichtentyp/code";
    x.reader_xpath =
        "concat(/*/x:Kopf/x:Empfaenger/x:Behoerdenkennung/x:Praefix/code, ':', "
        "/*/x:Kopf/x:Empfaenger/x:Behoerdenkennung/x:Behoerdenschluessel/code)";
    c.standards = {x};
    DestinationSection d;
    d.id = "archiv";
    d.topic = "xoev.archiv";
    d.encryption_keys = {dir.path / "archiv.pub.jwk"};
    c.destinations = {d};
    RouteSection r;
    r.name = "aussonderung";
    r.destination = "archiv";
    c.routes = {r};
    if (auto built = GatewaySnapshot::build(c)) snapshot = std::move(built).value();
  }
};

// One whole submission per iteration, read from disk piece by piece as the HTTP server
// would hand it over; a fresh pipeline each time (the id would be a resend otherwise).
void BM_StreamedIngest(benchmark::State& state) {
  static Setup setup;
  if (!setup.snapshot) return state.SkipWithError("no message or no configuration (see the source)");
  const auto size = static_cast<int64_t>(fs::file_size(setup.message));
  WorkerPool workers("stream", 0, 1u << 16);
  for (auto _ : state) {
    SnapshotHolder snapshots(setup.snapshot);
    AckingSink sink;
    StatusStore statuses;
    ReceiptPublisher receipts(sink, *crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "gw", "ES256"));
    IngestPipeline pipeline(snapshots, sink, statuses, receipts, nullptr);
    auto sub = StreamedSubmission::start(pipeline, workers, nullptr, {}, "", nullptr, "");
    std::ifstream in(setup.message, std::ios::binary);
    std::string piece(256 * 1024, '\0');
    while (in.read(piece.data(), static_cast<std::streamsize>(piece.size())) || in.gcount() > 0) {
      auto wanted = std::make_shared<std::promise<void>>();
      auto asked = wanted->get_future();
      sub->piece(std::string_view(piece.data(), static_cast<size_t>(in.gcount())), [wanted] { wanted->set_value(); });
      asked.wait();
    }
    auto answered = std::make_shared<std::promise<int>>();
    auto answer = answered->get_future();
    sub->end([answered](Result<Acceptance> r) { answered->set_value(r ? r->http_status : r.problem().http_status()); });
    if (answer.get() != 202) return state.SkipWithError("the message was not accepted");
  }
  state.SetBytesProcessed(state.iterations() * size);
}
BENCHMARK(BM_StreamedIngest)->Iterations(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
