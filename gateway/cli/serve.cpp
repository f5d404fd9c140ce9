// `xoevgate serve`: the gateway in the foreground until SIGINT/SIGTERM; SIGHUP reloads.
#include <spdlog/spdlog.h>

#include "gateway/cli/command.h"
#include "gateway/runtime/gateway_runtime.h"
#include "gateway/runtime/signal_waiter.h"
#include "gateway/runtime/systemd_notify.h"

namespace {

XOEVGATE_COMMAND("serve", "run the gateway (HTTP API, router, producer, status, in-process adapters)", [](CLI::App& app) {
  auto config = std::make_shared<std::string>("config/gateway.yaml");
  auto listen = std::make_shared<std::string>();
  app.add_option("--config", *config, "configuration file")->capture_default_str();
  app.add_option("--listen", *listen, "HOST:PORT, overrides gateway.listen");
  return [config, listen]() -> int {
    xoev::SignalWaiter signals;  // before any thread starts
    std::optional<std::string> listen_override;
    if (!listen->empty()) listen_override = *listen;
    auto rt = xoev::GatewayRuntime::start(*config, listen_override);
    if (!rt) return xoev::cli::fail(rt.problem());
    const std::string ready = "listening on port " + std::to_string((*rt)->port());
    if (auto s = xoev::systemd_notify_ready(ready); !s) spdlog::warn("systemd notification: {}", s.problem().one_line());
    for (;;) {
      const int sig = signals.wait();
      if (sig != SIGHUP) break;
      (void)xoev::systemd_notify("RELOADING=1");
      if (auto s = (*rt)->reload(); !s) spdlog::error("reload refused, still running the previous config: {}", s.problem().one_line());
      else spdlog::info("configuration reloaded from {}", *config);
      (void)xoev::systemd_notify_ready(ready);
    }
    spdlog::info("shutting down");
    (void)xoev::systemd_notify_stopping();
    (*rt)->stop();
    return 0;
  };
});

}  // namespace
