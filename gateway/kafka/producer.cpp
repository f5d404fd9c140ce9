#include "gateway/kafka/producer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <mutex>

#include "gateway/kafka/kafka_problem.h"

namespace xoev {
namespace {

// Runs the user's callback; nothing it throws may unwind into librdkafka's frames.
void run_callback(AckCallback& cb, Result<BrokerAck> result) {
  try {
    cb(std::move(result));
  } catch (const std::exception& e) {
    spdlog::error("kafka producer: delivery callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("kafka producer: delivery callback threw a non-exception");
  }
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  // The per-message opaque is the heap-allocated callback handed over in produce().
  std::unique_ptr<AckCallback> cb(static_cast<AckCallback*>(msg->_private));
  if (!cb) return;
  if (msg->err) {
    run_callback(*cb, kafka_problem(ProblemKind::broker_unavailable, "kafka delivery failed", msg->err));
    return;
  }
  run_callback(*cb, BrokerAck{msg->partition, msg->offset});
}

}  // namespace

Result<std::unique_ptr<Producer>> Producer::create(const KafkaConnection& connection, const std::string& client_id,
                                                   std::chrono::milliseconds delivery_timeout) {
  if (delivery_timeout.count() < 1)
    return Problem::make(ProblemKind::config_invalid, "kafka producer: delivery timeout must be positive");
  const std::string timeout_ms = std::to_string(delivery_timeout.count());
  auto conf = make_rdkafka_conf(connection,
                                {{"linger.ms", "5"},
                                 // A broker thread checks message timeouts when it wakes; a
                                 // long reconnect back-off (default up to 10 s) made delivery
                                 // reports for unreachable brokers up to ~6 s late, and slowed
                                 // recovery once they were back.
                                 {"reconnect.backoff.max.ms", "1000"}},
                                {{"client.id", client_id},
                                 {"enable.idempotence", "true"},
                                 {"acks", "all"},
                                 {"message.timeout.ms", timeout_ms},
                                 // Same key → same partition as Java clients would pick.
                                 {"partitioner", "murmur2_random"}});
  if (!conf) return std::move(conf).problem();
  rd_kafka_conf_set_dr_msg_cb(conf->get(), on_delivery);
  auto rk = make_rdkafka_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!rk) return std::move(rk).problem();

  std::unique_ptr<Producer> self(new Producer());
  self->rk_ = std::move(rk).value();
  self->delivery_timeout_ = delivery_timeout;
  self->poller_ = std::thread([p = self.get()] { p->poll_loop(); });
  return self;
}

void Producer::poll_loop() {
  while (!stop_.load(std::memory_order_relaxed)) rd_kafka_poll(rk_.get(), 100);
}

Producer::~Producer() { close(); }

void Producer::close() {
  if (close_started_.exchange(true)) return;
  const auto bound = std::min<std::chrono::milliseconds>(delivery_timeout_, std::chrono::seconds(10));
  // Reports served while flushing may still produce (e.g. a receipt for an acknowledged
  // message); from here on produce() refuses, so nothing can enter after the purge.
  const bool flushed = rd_kafka_flush(rk_.get(), static_cast<int>(bound.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
  {
    std::unique_lock lock(refuse_mu_);
    refuse_ = true;
  }
  if (!flushed || rd_kafka_outq_len(rk_.get()) > 0) {
    spdlog::warn("kafka producer: {} record(s) not delivered at shutdown; failing them", rd_kafka_outq_len(rk_.get()));
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  }
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  // Serve the delivery reports of purged records, so each callback ran exactly once.
  for (int i = 0; i < 50 && rd_kafka_outq_len(rk_.get()) > 0; ++i) rd_kafka_poll(rk_.get(), 100);
  rd_kafka_poll(rk_.get(), 0);
}

void Producer::produce(Envelope env, AckCallback cb) {
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  auto opaque = std::make_unique<AckCallback>(std::move(cb));
  {
    std::shared_lock lock(refuse_mu_);
    if (refuse_) {
      lock.unlock();  // the callback may produce again
      run_callback(*opaque, Problem::make(ProblemKind::broker_unavailable, "kafka produce to " + env.topic + ": producer closed"));
      return;
    }
    rd_kafka_headers_t* headers = rd_kafka_headers_new(env.headers.size());
    for (const auto& [name, value] : env.headers)
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    err = rd_kafka_producev(rk_.get(), RD_KAFKA_V_TOPIC(env.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(env.key.data(), env.key.size()),
                            RD_KAFKA_V_VALUE(env.value.data(), env.value.size()), RD_KAFKA_V_HEADERS(headers),
                            RD_KAFKA_V_OPAQUE(opaque.get()), RD_KAFKA_V_END);
    // Refused up front: librdkafka took neither the headers nor the opaque.
    if (err) rd_kafka_headers_destroy(headers);
  }
  if (err) {
    run_callback(*opaque, kafka_problem(ProblemKind::broker_unavailable, "kafka produce to " + env.topic, err));
    return;
  }
  (void)opaque.release();  // on_delivery owns it now
}

Status Producer::flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count()));
  if (err)
    return Problem::make(ProblemKind::broker_unavailable,
                         "kafka flush: " + std::to_string(rd_kafka_outq_len(rk_.get())) + " record(s) still undelivered");
  return ok_status();
}

Status Producer::reachable(std::chrono::milliseconds timeout) const {
  std::array<char, 512> reason{};
  if (rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk_.get(), reason.data(), reason.size()))
    return Problem::make(ProblemKind::broker_unavailable, std::string("kafka producer failed fatally: ") + reason.data() +
                                                              " (" + rd_kafka_err2name(fatal) + ")");
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, nullptr, &md, static_cast<int>(timeout.count()));
  if (err) return kafka_problem(ProblemKind::broker_unavailable, "kafka metadata", err);
  const int brokers = md->broker_cnt;
  rd_kafka_metadata_destroy(md);
  if (brokers == 0) return Problem::make(ProblemKind::broker_unavailable, "kafka metadata: no brokers known");
  return ok_status();
}

}  // namespace xoev
