// The load generator's sending side in C++: C keep-alive connections on one thread
// (Boost.Beast, Asio coroutines), each posting the sample with a fresh
// nachrichtenUUID, waiting for the answer, and posting the next. The Python driver it
// replaces spent more CPU per request than the gateway's validation on the same two
// cores; this one spends a few microseconds, so what the gateway gets is measured.
//
//   load_generator --port 8080 --sample FILE --messages 6000 --concurrency 32
//                  [--rate 400] [--retry-delay-ms 50] [--ids FILE]
//
// Prints one JSON object: counts, accepted/s, latency percentiles of the 202 answers
// (each waited for the broker's acknowledgement), 503s (retried after the delay, like
// a polite client), and the generator's own CPU seconds. --ids gets the accepted
// message ids, one per line, in the order they were accepted.
#include <sys/resource.h>

// GCC 12 flags Asio 1.18's coroutine frames (its own operator new/delete pair, sized
// delete) as mismatched at every coroutine's end: a false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 18080;
  std::string sample;
  int messages = 5000;
  int concurrency = 16;
  double rate = 0;  // messages/s for all connections together; 0: as fast as they go
  int retry_delay_ms = 50;
  std::string ids_file;
};

// The sample split around its first nachrichtenUUID, so a request is two appends.
struct Sample {
  std::string before, after;
  size_t size() const { return before.size() + 36 + after.size(); }
  std::string with_id(const std::string& id) const { return before + id + after; }
};

bool load_sample(const std::string& path, Sample& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return error = path + ": cannot read", false;
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  const std::string tag = "nachrichtenUUID>";
  const auto at = s.find(tag);
  if (at == std::string::npos || at + tag.size() + 36 > s.size())
    return error = path + ": no nachrichtenUUID to replace", false;
  out.before = s.substr(0, at + tag.size());
  out.after = s.substr(at + tag.size() + 36);
  return true;
}

std::string new_uuid(std::mt19937_64& rng) {
  const uint64_t hi = (rng() & ~0xf000ULL) | 0x4000ULL;                          // version 4
  const uint64_t lo = (rng() & ~(0xc000ULL << 48)) | (0x8000ULL << 48);          // variant 10
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return out;
}

// One thread runs every connection, so these need no lock.
struct Tally {
  std::vector<double> latencies_ms;  // of 202 answers
  std::vector<std::string> accepted;
  long backpressure = 0;             // 503s, each retried
  std::map<std::string, long> other; // other statuses and transport errors
  void note(const std::string& what) { ++other[what]; }
};

asio::awaitable<void> connect(beast::tcp_stream& stream, const tcp::endpoint& at) {
  stream.close();
  co_await stream.async_connect(at, asio::use_awaitable);
  stream.socket().set_option(tcp::no_delay(true));
}

// One keep-alive connection sending `count` messages, one after the other.
asio::awaitable<void> sender(const Options& o, const Sample& sample, int count, Tally& tally, uint64_t seed) {
  auto ex = co_await asio::this_coro::executor;
  const tcp::endpoint at(asio::ip::make_address(o.host), o.port);
  beast::tcp_stream stream(ex);
  asio::steady_timer timer(ex);
  std::mt19937_64 rng(seed);
  beast::flat_buffer buffer;
  const auto interval = o.rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(o.concurrency / o.rate))
                                   : Clock::duration::zero();
  auto next_at = Clock::now();
  bool connected = false;
  int failures = 0;  // transport errors in a row: a gateway that is gone ends the connection
  for (int i = 0; i < count && failures < 3; ++i) {
    if (interval.count() > 0) {
      next_at += interval;
      timer.expires_at(next_at);
      co_await timer.async_wait(asio::use_awaitable);
    }
    const std::string id = new_uuid(rng);
    http::request<http::string_body> req{http::verb::post, "/v1/messages", 11};
    req.set(http::field::host, o.host);
    req.set(http::field::content_type, "application/xml");
    req.body() = sample.with_id(id);
    req.prepare_payload();
    for (;;) {
      const auto t0 = Clock::now();
      http::response<http::string_body> res;
      try {
        if (!connected) co_await connect(stream, at);
        connected = true;
        co_await http::async_write(stream, req, asio::use_awaitable);
        co_await http::async_read(stream, buffer, res, asio::use_awaitable);
      } catch (const boost::system::system_error& e) {
        tally.note("error: " + e.code().message());
        connected = false;
        if (++failures >= 3) break;
        continue;  // the same message on a new connection
      }
      failures = 0;
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (!res.keep_alive()) connected = false;
      const int status = res.result_int();
      if (status == 503) {  // back-pressure: the polite client waits, then sends it again
        ++tally.backpressure;
        timer.expires_after(std::chrono::milliseconds(o.retry_delay_ms));
        co_await timer.async_wait(asio::use_awaitable);
        continue;
      }
      if (status == 202) {
        tally.latencies_ms.push_back(ms);
        tally.accepted.push_back(id);
      } else {
        tally.note(std::to_string(status));
      }
      break;
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"xoevgate load generator: POST the sample with fresh ids over keep-alive connections"};
  app.add_option("--host", o.host);
  app.add_option("--port", o.port)->required();
  app.add_option("--sample", o.sample, "XML with a nachrichtenUUID (the first is replaced)")->required();
  app.add_option("--messages", o.messages)->check(CLI::PositiveNumber);
  app.add_option("--concurrency", o.concurrency)->check(CLI::Range(1, 10000));
  app.add_option("--rate", o.rate, "messages/s for all connections together (0: as fast as possible)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--retry-delay-ms", o.retry_delay_ms, "wait before sending a message again after 503")
      ->check(CLI::Range(0, 60000));
  app.add_option("--ids", o.ids_file, "write the accepted message ids here, one per line");
  CLI11_PARSE(app, argc, argv);

  Sample sample;
  if (std::string error; !load_sample(o.sample, sample, error)) {
    std::cerr << error << "\n";
    return 2;
  }
  asio::io_context io(1);
  Tally tally;
  const int per = o.messages / o.concurrency;
  std::random_device seeds;
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (int c = 0; c < o.concurrency; ++c)
    asio::co_spawn(io, sender(o, sample, per, tally, (static_cast<uint64_t>(seeds()) << 32) | seeds()),
                   [&tally](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& x) {
                       tally.note(std::string("error: ") + x.what());
                     }
                   });
  io.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();

  auto& lat = tally.latencies_ms;
  std::sort(lat.begin(), lat.end());
  auto pct = [&lat](double p) {
    return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * static_cast<double>(lat.size())))];
  };
  if (!o.ids_file.empty()) {
    std::ofstream ids(o.ids_file);
    for (const auto& id : tally.accepted) ids << id << "\n";
  }
  const nlohmann::json result = {
      {"bytes", sample.size()},
      {"connections", o.concurrency},
      {"rate_target", o.rate},
      {"sent", per * o.concurrency},
      {"accepted", tally.accepted.size()},
      {"elapsed_s", elapsed},
      {"accepted_per_s", static_cast<double>(tally.accepted.size()) / elapsed},
      {"p50_ms", pct(0.5)},
      {"p99_ms", pct(0.99)},
      {"p999_ms", pct(0.999)},
      {"max_ms", pct(1.0)},
      {"backpressure_503", tally.backpressure},
      {"other", tally.other},
      {"driver_cpu_s", cpu_seconds() - cpu0}};
  std::cout << result.dump() << std::endl;
  return tally.accepted.size() == static_cast<size_t>(per * o.concurrency) ? 0 : 1;
}
