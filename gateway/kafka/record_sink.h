// Where records go: the seam between the gateway's logic and Kafka's producer, so
// the accept path and the delivery loop can be tested with a fake sink.
#pragma once

#include <cstdint>
#include <functional>

#include "gateway/core/result.h"
#include "gateway/kafka/envelope.h"

namespace xoev {

struct BrokerAck {
  int32_t partition = -1;
  int64_t offset = -1;
};

// Called exactly once per produce(), on any thread; must not block for long (it runs
// on the poll thread that serves every other delivery report too).
using AckCallback = std::function<void(Result<BrokerAck>)>;

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Topic, key, value and headers come from `env`. Never blocks; ends in exactly one
  // call of `cb`: the broker's acknowledgement, or a Problem (broker_unavailable).
  virtual void produce(Envelope env, AckCallback cb) = 0;
};

}  // namespace xoev
