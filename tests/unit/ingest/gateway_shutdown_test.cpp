// GatewayRuntime::stop() with messages in flight and the broker gone: the producers'
// last delivery reports run while the pipeline, status store and receipt publisher
// they reach are alive, and every waiting request is answered (never 202). Under
// AddressSanitizer a report reaching a destroyed object fails this test at once.
#include <gtest/gtest.h>

#include <thread>

#include "gateway/http/http_client.h"
#include "gateway/kafka/embedded_cluster.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/runtime/gateway_runtime.h"
#include "tests/unit/ingest/ingest_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

std::string config_yaml(const std::string& bootstrap) {
  return "gateway:\n"
         "  listen: 127.0.0.1:0\n"
         "  ack_timeout: 60s\n"  // longer than any flush at stop: records are still in flight then
         "kafka:\n"
         "  bootstrap: " + bootstrap + "\n"
         "keys:\n"
         "  signing: gw.jwk\n"
         "  trusted_gateways: [gw.pub.jwk]\n"
         "destinations:\n"
         "  - id: standesamt\n"
         "    encryption_keys: [d.pub.jwk]\n"
         "    adapter:\n"
         "      type: file\n"
         "      directory: inbox\n"
         "      decryption_keys: [d.jwk]\n"
         "routes:\n"
         "  - name: all\n"
         "    match: {reader: \"*\"}\n"
         "    destination: standesamt\n";
}

Result<http::HttpClientResponse> post(uint16_t port, const std::string& body) {
  http::HttpClient::Options o;
  o.total_timeout = 120s;
  auto client = http::HttpClient::create(o);
  if (!client) return client.problem();
  http::HttpClientRequest req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/messages";
  req.headers = {{"Content-Type", "application/xml"}};
  req.body = body;
  return client->send(req);
}

// The sample with another message id.
std::string message_with_id(const std::string& id) {
  std::string m = test::sample_message();
  const auto at = m.find(test::kSampleId);
  EXPECT_NE(at, std::string::npos);
  return m.replace(at, std::string(test::kSampleId).size(), id);
}

TEST(GatewayShutdown, RecordsInFlightWhenTheBrokerIsGoneAreAnsweredAndOutliveNothing) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster.ok()) << cluster.problem().one_line();
  for (const std::string& t : {std::string("xoev.standesamt"), std::string(names::kReceiptsTopic), names::dlq_topic("standesamt")})
    ASSERT_TRUE((*cluster)->create_topic(t).ok());
  test::TempDir dir{"xoev-shutdown-"};
  test::write_keys(dir.path);
  test::write_file(dir.path / "gateway.yaml", config_yaml((*cluster)->bootstrap()));

  auto rt = GatewayRuntime::start(dir.path / "gateway.yaml", std::nullopt);
  ASSERT_TRUE(rt.ok()) << rt.problem().one_line();
  const uint16_t port = (*rt)->port();

  // While the broker is up a message is accepted (the producer knows its leader).
  auto first = post(port, message_with_id("00000000-0000-4000-8000-000000000001"));
  ASSERT_TRUE(first.ok()) << first.problem().one_line();
  ASSERT_EQ(first->status, 202) << first->body;

  ASSERT_TRUE((*cluster)->set_broker_up(1, false).ok());
  std::vector<int> statuses(4, 0);
  std::vector<std::jthread> senders;
  for (size_t i = 0; i < statuses.size(); ++i)
    senders.emplace_back([&, i] {
      auto r = post(port, message_with_id("00000000-0000-4000-8000-00000000001" + std::to_string(i)));
      statuses[i] = r ? r->status : -1;  // -1: the server closed the connection unanswered
    });
  std::this_thread::sleep_for(1500ms);  // the records are with the producer, unacknowledged

  rt->reset();  // ~GatewayRuntime → stop(), then nothing is left to call back
  senders.clear();
  for (int s : statuses) EXPECT_NE(s, 202) << "nothing is accepted without the broker's acknowledgement";
}

}  // namespace
}  // namespace xoev
