#include "gateway/http/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "gateway/http/fd_limit.h"
#include "gateway/http/http_listener.h"
#include "gateway/http/http_session.h"
#include "gateway/http/listen_address.h"

namespace xoev::http {

namespace net = boost::asio;

struct HttpServer::Impl {
  explicit Impl(int thread_count) : ioc(std::max(thread_count, 1)), work(net::make_work_guard(ioc)) {}

  net::io_context ioc;  // first member: destroyed last, after everything using it
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;  // threads run until stop()
  std::shared_ptr<ServerContext> context;
  std::shared_ptr<HttpListener> listener;
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
  bool stopped = false;
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(const Options& options, Handler handler) {
  return start_with(options, std::move(handler), {});
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const Options& options, PathRouter router) {
  auto shared = std::make_shared<const PathRouter>(std::move(router));
  StreamRouteLookup lookup;
  if (shared->has_streaming_routes()) {
    lookup = [shared](std::string_view method, std::string_view path) { return shared->streaming_route(method, path); };
  }
  return start_with(
      options, [shared](HttpRequest&& request, Responder respond) { (*shared)(std::move(request), std::move(respond)); },
      std::move(lookup));
}

Result<std::unique_ptr<HttpServer>> HttpServer::start_with(const Options& options, Handler handler,
                                                           StreamRouteLookup stream_routes) {
  if (!handler) return Problem::make(ProblemKind::internal, "HttpServer::start needs a handler");
  auto endpoint = parse_listen_address(options.listen);
  if (!endpoint) return std::move(endpoint).problem();
  const auto open_file_limit = raise_open_file_limit();
  const auto capacity = connection_capacity(open_file_limit, options.max_connections, options.reserved_fd_percent,
                                            options.reserved_fd_min);

  auto impl = std::make_unique<Impl>(options.threads);
  impl->context = std::make_shared<ServerContext>(options, std::move(handler), capacity, std::move(stream_routes));
  auto listener = HttpListener::open(impl->ioc, *endpoint, impl->context);
  if (!listener) return std::move(listener).problem();
  impl->listener = std::move(listener).value();
  impl->listener->start();
  for (int i = 0; i < std::max(options.threads, 1); ++i) {
    impl->threads.emplace_back([&ioc = impl->ioc] {
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {  // sessions catch their own; this is the last guard
          spdlog::error("http: I/O thread caught: {}", e.what());
        }
      }
    });
  }
  spdlog::info("http: listening on {} (port {}); at most {} connections ({} per address, open-file limit {}), "
               "{} MiB of bodies at once",
               options.listen, impl->listener->port(), capacity, options.max_connections_per_address, open_file_limit,
               impl->context->body_memory.limit() >> 20);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::port() const { return impl_->listener->port(); }

void HttpServer::stop() {
  std::lock_guard lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;

  auto& context = *impl_->context;
  context.begin_stopping();
  impl_->listener->stop();
  for (const auto& session : context.sessions()) session->stop_if_idle();
  const auto deadline = std::chrono::steady_clock::now() + context.options.stop_grace;
  while (context.session_count() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (context.session_count() > 0) {
    spdlog::warn("http: stopping with {} request(s) still unanswered", context.session_count());
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& thread : impl_->threads) thread.join();
  // From here on a late Responder does nothing; sessions it would have answered are
  // released while the io_context still exists.
  context.declare_dead();
  for (const auto& session : context.sessions()) session->abandon();
}

}  // namespace xoev::http
