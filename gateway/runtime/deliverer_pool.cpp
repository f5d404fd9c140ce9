#include "gateway/runtime/deliverer_pool.h"

#include "gateway/kafka/consumer.h"
#include "gateway/kafka/topic_admin.h"
#include "gateway/kafka/topic_names.h"

namespace xoev {

KafkaConnection delivery_connection(KafkaConnection connection) {
  connection.properties.try_emplace("linger.ms", "0");
  return connection;
}

Status DelivererPool::add(const KafkaConnection& connection, const Config& config, const DestinationSection& destination,
                          RecordSink& sink, BacklogMonitor* dead_letter_backlog,
                          DeliveryLoop::DecisionObserver decisions) {
  auto loop = DeliveryLoop::create(config, destination, sink, dead_letter_backlog);
  if (!loop) return loop.problem();
  (*loop)->observe_decisions(std::move(decisions));
  DeliveryLoop* raw = loop->get();
  loops_.push_back(std::move(loop).value());
  KafkaConnection consumer_connection = connection;
  // A record being retried holds its partition for up to max_backoff between polls.
  consumer_connection.properties.try_emplace("max.poll.interval.ms", "3600000");
  const std::string group = names::consumer_group(destination.id);
  const std::string topic = destination.topic;
  services_.push_back(std::make_unique<ConsumerService>(
      "deliver-" + destination.id,
      [consumer_connection, group, topic]() -> Result<std::unique_ptr<RecordSource>> {
        // Asked again at each (re)creation: the cluster behind the bootstrap may change.
        KafkaConnection tuned = consumer_connection;
        if (auto id = kafka_cluster_id(consumer_connection, std::chrono::seconds(5)))
          tuned = with_fetch_wait_for_cluster(std::move(tuned), *id);
        auto consumer = Consumer::create(tuned, group, {topic}, true);
        if (!consumer) return consumer.problem();
        return std::unique_ptr<RecordSource>(std::move(consumer).value());
      },
      [raw](RecordSource& source, std::stop_token stop) { raw->run(source, stop); }));
  return ok_status();
}

void DelivererPool::stop() {
  // All stops requested first, so the loops wind down together.
  for (auto& s : services_) s->request_stop();
  services_.clear();
}

Status DelivererPool::reload_tls() {
  Status first = ok_status();
  for (const auto& loop : loops_)
    if (auto s = loop->reload_tls(); !s && first)
      first = Problem::make(s.problem().kind, "destination '" + loop->destination_id() + "': " + s.problem().detail);
  return first;
}

}  // namespace xoev
