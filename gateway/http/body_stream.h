// Streamed request bodies: for routes that take bodies too large to hold (hundreds of
// megabytes), the application gets the body piece by piece and paces the reading. The
// session reads nothing while a piece is unacknowledged, so a slow consumer slows the
// sender through TCP back-pressure instead of filling memory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "gateway/http/handler.h"

namespace xoev::http {

// The application's sink for one request body. Calls arrive on the session's strand,
// never concurrently. The session owns it and destroys it after on_end or on_abort
// returns; exactly one of the two is called.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // The next bytes of the body (already de-chunked; never empty; valid until `more` is
  // called). Call `more()` exactly once when ready for the next piece, from any thread,
  // any time later: until then the session reads nothing. Further calls are ignored.
  virtual void on_piece(std::string_view bytes, std::function<void()> more) = 0;
  // The whole body arrived (after the last piece's more()): answer through `respond`.
  virtual void on_end(Responder respond) = 0;
  // The body will not complete: client gone, framing error, timeout, limit, shutdown.
  // No answer is possible, or the server sends its own.
  virtual void on_abort(std::string_view why) = 0;
};

// Decides per request once its header is read (`head.body` is empty): a BodyStream to
// stream this body, or nullptr after answering through `respond` (401, 415, 413 ...);
// such an answer closes the connection, since the body stays unread. `respond` is only
// for that case. Runs on an I/O thread; must not block. An exception is a 500.
using StreamingHandler = std::function<std::unique_ptr<BodyStream>(const HttpRequest& head, Responder& respond)>;

struct StreamRoute {
  StreamingHandler handler;
  // A body is streamed when its Content-Length exceeds this or it is sent chunked;
  // other requests of the route go to its normal Handler.
  std::uint64_t stream_above_bytes = 0;
};

// How a session finds the streaming route of a request: null if it has none. The
// pointer stays valid as long as the lookup function itself.
using StreamRouteLookup = std::function<const StreamRoute*(std::string_view method, std::string_view path)>;

}  // namespace xoev::http
