// Defence in depth: even a record that slipped past the ingest checks can never
// split a header of the Fachverfahren's request.
#include <gtest/gtest.h>

#include "adapters/outbound/http/http_adapter.h"

using namespace xoev;

TEST(HttpAdapterHeaders, ControlCharactersInAHeaderValueAreRejectedBeforeSending) {
  HttpSettings s;
  s.url = "http://127.0.0.1:9/inbox";  // discard port: a request sent would fail with a Retry
  s.timeout = std::chrono::milliseconds(500);
  auto adapter = make_http_adapter(s);
  ASSERT_TRUE(adapter.ok()) << adapter.problem().one_line();
  DeliveredMessage m;
  m.message_id = "6f1c6c0e-2c32-4c4e-9a51-1c0d1a3b9e01";
  m.message_type = "380";
  m.sender = "ustid:DE1\r\nX-Injected: yes";
  m.body = "<a/>";
  auto out = (*adapter)->deliver(m);
  ASSERT_TRUE(std::holds_alternative<Reject>(out));
  EXPECT_NE(std::get<Reject>(out).problem.detail.find("X-Xoev-Sender"), std::string::npos);
}
