// Builds the Responder a Handler gets (see handler.h for its promises).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "gateway/http/handler.h"
#include "gateway/http/server_context.h"

namespace xoev::http {

class HttpSession;

// `session` is weak: a Responder never keeps a connection or the server's I/O alive.
// `instance` (the request path) goes into the 500 sent when the Responder is dropped.
Responder make_responder(std::weak_ptr<HttpSession> session, std::shared_ptr<ServerContext> context,
                         std::string instance);

// A Responder that can be withdrawn: after withdraw(), calling or dropping it does
// nothing (a streaming handler's Responder once it chose to stream the body).
struct WithdrawableResponder {
  Responder respond;
  std::function<void()> withdraw;
};
WithdrawableResponder make_withdrawable_responder(std::weak_ptr<HttpSession> session,
                                                  std::shared_ptr<ServerContext> context, std::string instance);

}  // namespace xoev::http
