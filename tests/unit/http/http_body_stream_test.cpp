// Streamed request bodies (body_stream.h) over real loopback TCP and once over TLS:
// large bodies arrive byte-identical in bounded pieces, chunked ones too, limits refuse
// by Content-Length before the body and mid-stream for chunked ones, a vanished client
// aborts the stream, a withheld more() stops the reading (the sender blocks, memory stays
// flat) until it comes, and small bodies still go to the route's normal Handler.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "gateway/http/body_stream.h"
#include "gateway/http/http_client.h"
#include "gateway/http/http_server.h"
#include "gateway/http/path_router.h"
#include "gateway/http/tls_context_source.h"
#include "raw_connection.h"
#include "test_pki.h"

using namespace std::chrono_literals;
using namespace xoev::http;
using xoev::http::test::RawResponse;

namespace {

constexpr std::uint64_t kMiB = 1u << 20;

// Body byte `i` of every test body: position-dependent, so a lost, repeated or
// misplaced piece changes the hash.
char body_byte(std::uint64_t i) { return static_cast<char>(((i * 2654435761u) >> 11) ^ (i >> 17)); }

std::string body_bytes(std::uint64_t offset, std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t k = 0; k < n; ++k) out[k] = body_byte(offset + k);
  return out;
}

constexpr std::uint64_t kHashStart = 14695981039346656037ull;
std::uint64_t fnv1a(std::uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::uint64_t expected_hash(std::uint64_t size) {
  std::uint64_t hash = kHashStart;
  for (std::uint64_t offset = 0; offset < size; offset += kMiB) {
    hash = fnv1a(hash, body_bytes(offset, static_cast<std::size_t>(std::min(kMiB, size - offset))));
  }
  return hash;
}

// What the application saw of the streamed bodies; shared with the test thread.
struct SinkLog {
  std::mutex mutex;
  int streams = 0;
  std::uint64_t bytes = 0;
  std::uint64_t hash = kHashStart;
  std::size_t pieces = 0;
  std::size_t largest_piece = 0;
  bool ended = false;
  std::string aborted;
  std::string head_path;
  bool hold = false;  // keep more() instead of calling it
  std::deque<std::function<void()>> held;

  template <class T>
  T read(T SinkLog::*field) {
    std::lock_guard lock(mutex);
    return this->*field;
  }
  void release() {
    std::deque<std::function<void()>> due;
    {
      std::lock_guard lock(mutex);
      hold = false;
      due.swap(held);
    }
    for (auto& more : due) more();
  }
};

class RecordingSink : public BodyStream {
 public:
  explicit RecordingSink(std::shared_ptr<SinkLog> log) : log_(std::move(log)) {}
  void on_piece(std::string_view bytes, std::function<void()> more) override {
    std::unique_lock lock(log_->mutex);
    log_->bytes += bytes.size();
    log_->hash = fnv1a(log_->hash, bytes);
    ++log_->pieces;
    log_->largest_piece = std::max(log_->largest_piece, bytes.size());
    if (log_->hold) return log_->held.push_back(std::move(more));
    lock.unlock();
    more();
  }
  void on_end(Responder respond) override {
    std::lock_guard lock(log_->mutex);
    log_->ended = true;
    respond(HttpResponse::json(201, {{"bytes", log_->bytes}, {"hash", std::to_string(log_->hash)}, {"streamed", true}}));
  }
  void on_abort(std::string_view why) override {
    std::lock_guard lock(log_->mutex);
    log_->aborted = why.empty() ? "(empty reason)" : std::string(why);
  }

 private:
  std::shared_ptr<SinkLog> log_;
};

PathRouter make_router(const std::shared_ptr<SinkLog>& log, std::uint64_t stream_above, const std::string& path) {
  PathRouter router;
  router.add("POST", path, [](HttpRequest&& request, Responder respond) {
    respond(HttpResponse::json(200, {{"bytes", request.body.size()}, {"streamed", false}}));
  });
  router.add_streaming(
      "POST", path,
      [log](const HttpRequest& head, Responder& respond) -> std::unique_ptr<BodyStream> {
        if (head.header("authorization") == "deny") {
          respond(HttpResponse::problem(xoev::Problem::make(xoev::ProblemKind::unauthenticated, "no"), head.path));
          return nullptr;
        }
        std::lock_guard lock(log->mutex);
        ++log->streams;
        log->head_path = head.path;
        return std::make_unique<RecordingSink>(log);
      },
      stream_above);
  return router;
}

HttpServer::Options loopback_options() {
  HttpServer::Options options;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  return options;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A blocking loopback client that can also try to write without blocking, to see
// when the server stops taking bytes.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{};
    tv.tv_sec = 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) close();
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Bytes the kernel took without blocking (0 when the send buffer is full).
  std::size_t try_send(std::string_view bytes) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  // Sends `size` body bytes starting at body offset `from`.
  bool send_body(std::uint64_t from, std::uint64_t size) {
    for (std::uint64_t offset = from; offset < from + size; offset += kMiB) {
      if (!send(body_bytes(offset, static_cast<std::size_t>(std::min(kMiB, from + size - offset))))) return false;
    }
    return true;
  }
  std::optional<RawResponse> read_response() {
    namespace bhttp = boost::beast::http;
    bhttp::response_parser<bhttp::string_body> parser;
    boost::beast::error_code ec;
    for (;;) {
      if (!pending_.empty()) {
        const auto used = parser.put(boost::asio::buffer(pending_), ec);
        pending_.erase(0, used);
        if (ec && ec != bhttp::error::need_more) return std::nullopt;
        if (parser.is_done()) break;
        if (used > 0 && !ec) continue;
      }
      char chunk[65536];
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      pending_.append(chunk, static_cast<std::size_t>(n));
    }
    RawResponse response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = parser.get().body();
    return response;
  }
  bool closed_by_peer() {
    char chunk[4096];
    for (;;) {
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  int fd_ = -1;
  std::string pending_;
};

std::string post_head(std::uint64_t length, std::string_view extra = "") {
  return "POST /up HTTP/1.1\r\nHost: t\r\nContent-Type: application/xml\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}
const std::string kChunkedHead =
    "POST /up HTTP/1.1\r\nHost: t\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string hex(std::uint64_t n) {
  char text[32];
  std::snprintf(text, sizeof text, "%llx", static_cast<unsigned long long>(n));
  return text;
}

// Sends a body of `size` bytes; send_until_stalled() writes without blocking until the
// kernel has taken nothing for 500 ms (the server reads nothing more, so the socket
// buffers are full), send_rest() the remainder.
struct BodySender {
  Client& client;
  const std::uint64_t size;
  std::uint64_t sent = 0;
  std::string block = body_bytes(0, static_cast<std::size_t>(std::min(kMiB, size)));
  std::size_t block_used = 0;

  BodySender(Client& c, std::uint64_t body_size) : client(c), size(body_size) {}
  void send_until_stalled() {
    auto stalled_since = std::chrono::steady_clock::now();
    while (sent < size && std::chrono::steady_clock::now() - stalled_since < 500ms) {
      const auto n = client.try_send(std::string_view(block).substr(block_used));
      if (n == 0) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      stalled_since = std::chrono::steady_clock::now();
      sent += n;
      block_used += n;
      if (block_used == block.size()) {
        block = body_bytes(sent, static_cast<std::size_t>(std::min(kMiB, size - sent)));
        block_used = 0;
      }
    }
  }
  bool send_rest() {
    if (block_used < block.size() && !client.send(std::string_view(block).substr(block_used))) return false;
    sent += block.size() - block_used;
    block_used = block.size();
    return client.send_body(sent, size - sent);
  }
};

struct Running {
  std::shared_ptr<SinkLog> log = std::make_shared<SinkLog>();
  std::unique_ptr<HttpServer> server;
};

Running start(HttpServer::Options options, std::uint64_t stream_above = 64 * 1024, const std::string& path = "/up") {
  Running running;
  auto server = HttpServer::start(options, make_router(running.log, stream_above, path));
  EXPECT_TRUE(server) << server.problem().one_line();
  if (server) running.server = std::move(server).value();
  return running;
}

nlohmann::json json_of(const RawResponse& response) { return nlohmann::json::parse(response.body); }

// Sends what `sender` has left while reading the answer: 201, the whole body, intact.
void expect_the_rest_arrives_intact(Client& client, BodySender& sender) {
  std::thread writer([&] { sender.send_rest(); });
  auto response = client.read_response();
  writer.join();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201) << response->body;
  EXPECT_EQ(json_of(*response)["bytes"], sender.size);
  EXPECT_EQ(json_of(*response)["hash"], std::to_string(expected_hash(sender.size)));
}

}  // namespace

TEST(BodyStream, LargeBodyArrivesByteIdenticalInBoundedPiecesThenKeepAliveGoesOn) {
  auto s = start(loopback_options());
  ASSERT_TRUE(s.server);
  Client client(s.server->port());
  ASSERT_TRUE(client.connected());
  const std::uint64_t size = 64 * kMiB;
  ASSERT_TRUE(client.send(post_head(size)));
  ASSERT_TRUE(client.send_body(0, size));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201) << response->body;
  EXPECT_EQ(json_of(*response)["bytes"], size);
  EXPECT_EQ(json_of(*response)["hash"], std::to_string(expected_hash(size)));
  EXPECT_TRUE(s.log->read(&SinkLog::ended));
  EXPECT_EQ(s.log->read(&SinkLog::head_path), "/up");
  EXPECT_GT(s.log->read(&SinkLog::pieces), 1u);
  EXPECT_LE(s.log->read(&SinkLog::largest_piece), 256u * 1024u);
  EXPECT_TRUE(s.log->read(&SinkLog::aborted).empty());

  // Same connection: a body below the threshold goes to the normal Handler.
  ASSERT_TRUE(client.send(post_head(1000) + body_bytes(0, 1000)));
  response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(json_of(*response)["streamed"], false);
  EXPECT_EQ(json_of(*response)["bytes"], 1000);
  EXPECT_EQ(s.log->read(&SinkLog::streams), 1);
}

TEST(BodyStream, ChunkedBodyIsStreamedAndAPipelinedRequestFollows) {
  auto s = start(loopback_options(), /*stream_above=*/1 << 30);  // chunked streams whatever the threshold
  ASSERT_TRUE(s.server);
  Client client(s.server->port());
  std::string wire = kChunkedHead;
  std::uint64_t offset = 0;
  for (std::uint64_t size : {100000ull, 1ull, 700000ull, 3ull * kMiB}) {
    wire += hex(size) + "\r\n" + body_bytes(offset, static_cast<std::size_t>(size)) + "\r\n";
    offset += size;
  }
  wire += "0\r\n\r\n" + post_head(5) + "hello";  // and the next request right behind it
  ASSERT_TRUE(client.send(wire));
  auto first = client.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 201) << first->body;
  EXPECT_EQ(json_of(*first)["bytes"], offset);
  EXPECT_EQ(json_of(*first)["hash"], std::to_string(expected_hash(offset)));
  auto second = client.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(json_of(*second)["bytes"], 5);
}

TEST(BodyStream, ContentLengthAboveTheLimitIsRefusedBeforeTheBodyAndTheLimitItselfPasses) {
  auto options = loopback_options();
  options.max_stream_bytes = kMiB;
  auto s = start(options);
  ASSERT_TRUE(s.server);
  {
    Client client(s.server->port());
    // With Expect: 100-continue the client waits; the answer must be 413, not 100.
    ASSERT_TRUE(client.send(post_head(kMiB + 1, "Expect: 100-continue\r\n")));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_NE(response->body.find(std::to_string(kMiB)), std::string::npos) << response->body;
    EXPECT_EQ(s.log->read(&SinkLog::streams), 0);
  }
  Client client(s.server->port());
  ASSERT_TRUE(client.send(post_head(kMiB, "Expect: 100-continue\r\n")));
  auto interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send_body(0, kMiB));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201) << response->body;
  EXPECT_EQ(json_of(*response)["bytes"], kMiB);
}

TEST(BodyStream, ChunkedBodyPastTheLimitIsRefusedMidStream) {
  auto options = loopback_options();
  options.max_stream_bytes = kMiB;
  auto s = start(options);
  ASSERT_TRUE(s.server);
  Client client(s.server->port());
  std::string wire = kChunkedHead;
  for (std::uint64_t offset = 0; offset < kMiB; offset += 64 * 1024) {
    wire += hex(64 * 1024) + "\r\n" + body_bytes(offset, 64 * 1024) + "\r\n";
  }
  ASSERT_TRUE(client.send(wire));  // exactly the limit: still fine
  ASSERT_TRUE(eventually([&] { return s.log->read(&SinkLog::bytes) == kMiB; }));
  EXPECT_TRUE(s.log->read(&SinkLog::aborted).empty());
  client.send("1\r\nx\r\n");  // one byte more
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find(std::to_string(kMiB)), std::string::npos) << response->body;
  EXPECT_TRUE(eventually([&] { return !s.log->read(&SinkLog::aborted).empty(); }));
  EXPECT_FALSE(s.log->read(&SinkLog::ended));
  EXPECT_EQ(s.log->read(&SinkLog::bytes), kMiB);
}

TEST(BodyStream, ClientThatDisconnectsMidBodyAbortsTheStream) {
  auto s = start(loopback_options());
  ASSERT_TRUE(s.server);
  Client client(s.server->port());
  ASSERT_TRUE(client.send(post_head(10 * kMiB)));
  ASSERT_TRUE(client.send_body(0, kMiB));
  ASSERT_TRUE(eventually([&] { return s.log->read(&SinkLog::bytes) == kMiB; }));
  client.close();
  EXPECT_TRUE(eventually([&] { return !s.log->read(&SinkLog::aborted).empty(); }));
  EXPECT_FALSE(s.log->read(&SinkLog::ended));
}

TEST(BodyStream, WithheldMoreStopsTheReadingUntilItComes) {
  auto s = start(loopback_options());
  ASSERT_TRUE(s.server);
  s.log->hold = true;
  Client client(s.server->port());
  const std::uint64_t size = 64 * kMiB;
  ASSERT_TRUE(client.send(post_head(size)));
  const auto rss_before = xoev::http::test::resident_bytes();
  BodySender sender(client, size);
  sender.send_until_stalled();
  const std::uint64_t sent = sender.sent;
  EXPECT_LT(sent, 32 * kMiB) << "the server kept reading while the application withheld more()";
  EXPECT_EQ(s.log->read(&SinkLog::pieces), 1u);
  EXPECT_LE(s.log->read(&SinkLog::bytes), 256u * 1024u);
  EXPECT_LT(xoev::http::test::resident_bytes(), rss_before + 16 * kMiB);

  // More: the rest flows, answer comes, body intact.
  s.log->release();
  expect_the_rest_arrives_intact(client, sender);
}

// Bytes that are already waiting in the socket fill a whole piece before it is handed
// over: one trip through the application per 256 KiB, not one per TCP segment or per
// read (Beast reads at most its buffer's capacity, a few KiB after the header).
TEST(BodyStream, BytesAlreadyWaitingFillWholePieces) {
  auto s = start(loopback_options());
  ASSERT_TRUE(s.server);
  s.log->hold = true;
  Client client(s.server->port());
  const std::uint64_t size = 64 * kMiB;
  ASSERT_TRUE(client.send(post_head(size)));
  BodySender sender(client, size);
  sender.send_until_stalled();
  const std::uint64_t waiting = sender.sent;
  ASSERT_GE(waiting, kMiB) << "the socket buffers took too little to tell";
  ASSERT_EQ(s.log->read(&SinkLog::pieces), 1u);
  s.log->release();  // the server reads what waits; nothing more is sent meanwhile
  ASSERT_TRUE(eventually([&] { return s.log->read(&SinkLog::bytes) == waiting; }));
  const std::uint64_t piece = 256 * 1024;
  EXPECT_LE(s.log->read(&SinkLog::pieces), 1 + (waiting + piece - 1) / piece + 1)
      << waiting << " waiting bytes came in pieces of " << waiting / s.log->read(&SinkLog::pieces) << " bytes on average";

  expect_the_rest_arrives_intact(client, sender);
}

TEST(BodyStream, ApplicationThatNeverAsksForMoreIsGivenUpAfterMaxStreamPause) {
  auto options = loopback_options();
  options.max_stream_pause = 1s;
  auto s = start(options);
  ASSERT_TRUE(s.server);
  s.log->hold = true;
  Client client(s.server->port());
  ASSERT_TRUE(client.send(post_head(2 * kMiB)));
  ASSERT_TRUE(client.send_body(0, 512 * 1024));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_NE(s.log->read(&SinkLog::aborted).find("max_stream_pause"), std::string::npos);
  s.log->release();  // a late more() does nothing harmful
  EXPECT_FALSE(s.log->read(&SinkLog::ended));
}

TEST(BodyStream, HandlerThatAnswersFromTheHeaderClosesWithoutReadingTheBody) {
  auto s = start(loopback_options());
  ASSERT_TRUE(s.server);
  Client client(s.server->port());
  ASSERT_TRUE(client.send(post_head(8 * kMiB, "Authorization: deny\r\nExpect: 100-continue\r\n")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(s.log->read(&SinkLog::streams), 0);
}

TEST(BodyStream, TlsRoundTripWithTheClientsFileBody) {
  const auto pki = xoev::http::test::TestPki::create();
  ASSERT_FALSE(pki.ca_cert.empty());
  auto context = make_server_tls_context({pki.server_cert, pki.server_key, ""});
  ASSERT_TRUE(context) << context.problem().one_line();
  auto options = loopback_options();
  options.tls = std::make_shared<TlsContextSource>(std::move(context).value());
  auto s = start(options);
  ASSERT_TRUE(s.server);

  const std::uint64_t size = 5 * kMiB + 17;
  const auto file = std::filesystem::path(pki.dir) / "body.bin";
  {
    std::ofstream out(file, std::ios::binary);
    for (std::uint64_t offset = 0; offset < size; offset += kMiB) {
      out << body_bytes(offset, static_cast<std::size_t>(std::min(kMiB, size - offset)));
    }
  }
  HttpClientOptions client_options;
  client_options.ca_file = pki.ca_cert;
  auto client = HttpClient::create(client_options);
  ASSERT_TRUE(client);
  HttpClientRequest request;
  request.method = "POST";
  request.url = "https://127.0.0.1:" + std::to_string(s.server->port()) + "/up";
  HttpClientFileBody file_body;
  file_body.path = file.string();
  std::uint64_t last_sent = 0, last_total = 0;
  file_body.on_progress = [&](std::uint64_t sent, std::uint64_t total) {
    last_sent = sent;
    last_total = total;
  };
  auto response = client->send(request, file_body);
  ASSERT_TRUE(response) << response.problem().one_line();
  EXPECT_EQ(response->status, 201) << response->body;
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["bytes"], size);
  EXPECT_EQ(body["hash"], std::to_string(expected_hash(size)));
  EXPECT_EQ(last_sent, size);
  EXPECT_EQ(last_total, size);
}

// `xoevgate send` as a real process: a large file is streamed (the sender's peak memory
// stays far below the file's size), answered once, with progress on stderr.
TEST(BodyStream, SendCommandStreamsALargeFileWithProgress) {
  if (!std::filesystem::exists(XOEV_BINARY)) GTEST_FAIL() << "build target xoevgate first: " << XOEV_BINARY;
  auto s = start(loopback_options(), 64 * 1024, "/v1/messages");
  ASSERT_TRUE(s.server);
  const auto dir = std::filesystem::temp_directory_path() / ("xoev-send-stream-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::uint64_t size = 96 * kMiB;
  {
    std::ofstream out(dir / "large.xml", std::ios::binary);
    for (std::uint64_t offset = 0; offset < size; offset += kMiB) out << body_bytes(offset, kMiB);
  }
  const std::string command = "/usr/bin/time -f 'peak-kib %M' " + std::string(XOEV_BINARY) +
                              " send --progress --url http://127.0.0.1:" + std::to_string(s.server->port()) + " " +
                              (dir / "large.xml").string() + " >" + (dir / "out").string() + " 2>" +
                              (dir / "err").string();
  EXPECT_EQ(std::system(command.c_str()), 0);
  std::ifstream out_file(dir / "out");
  std::string line;
  ASSERT_TRUE(std::getline(out_file, line));
  const auto result = nlohmann::json::parse(line);
  EXPECT_EQ(result["status"], 201) << line;
  EXPECT_EQ(result["response"]["bytes"], size);
  EXPECT_EQ(result["response"]["hash"], std::to_string(expected_hash(size)));
  EXPECT_FALSE(std::getline(out_file, line)) << "one JSON line per file";
  std::stringstream err;
  err << std::ifstream(dir / "err").rdbuf();
  EXPECT_NE(err.str().find("96.0 MiB / 96.0 MiB (100%)"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("MiB/s"), std::string::npos);
  const auto peak = err.str().find("peak-kib ");
  ASSERT_NE(peak, std::string::npos) << err.str();
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in quarantine (256 MB): no memory bound to check.
#else
  EXPECT_LT(std::stoull(err.str().substr(peak + 9)), 48u * 1024u) << "the sender held the file";
#endif
  std::filesystem::remove_all(dir);
}

// Which requests stream: the longest matching prefix decides, so a longer normal route
// under a streaming one keeps its requests; other methods never stream.
TEST(BodyStream, RouterFindsTheStreamingRouteOnlyWhereItIsTheBestMatch) {
  PathRouter router;
  auto ignore = [](HttpRequest&&, Responder) {};
  auto stream = [](const HttpRequest&, Responder&) -> std::unique_ptr<BodyStream> { return nullptr; };
  router.add("POST", "/v1/messages", ignore);
  router.add("POST", "/v1/messages/x/ack", ignore);
  router.add_streaming("POST", "/v1/messages", stream, 100);
  ASSERT_TRUE(router.has_streaming_routes());
  const auto* found = router.streaming_route("POST", "/v1/messages");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->stream_above_bytes, 100u);
  EXPECT_NE(router.streaming_route("POST", "/v1/messages/abc"), nullptr);
  EXPECT_EQ(router.streaming_route("POST", "/v1/messages/x/ack"), nullptr);
  EXPECT_EQ(router.streaming_route("PUT", "/v1/messages"), nullptr);
  EXPECT_EQ(router.streaming_route("POST", "/v1/messagesX"), nullptr);
  EXPECT_FALSE(PathRouter().has_streaming_routes());
}

// read_timeout bounds the time between bytes of a streamed body, not the whole body, and
// the time the application withholds more() does not count against it.
TEST(BodyStream, ProgressTimeoutReplacesTheWholeRequestReadTimeout) {
  auto options = loopback_options();
  options.read_timeout = 1s;
  options.header_timeout = 1s;
  auto s = start(options);
  ASSERT_TRUE(s.server);
  {
    Client slow_but_steady(s.server->port());
    const std::uint64_t size = 8 * 128 * 1024;
    ASSERT_TRUE(slow_but_steady.send(post_head(size)));
    for (std::uint64_t offset = 0; offset < size; offset += 128 * 1024) {
      ASSERT_TRUE(slow_but_steady.send(body_bytes(offset, 128 * 1024)));
      std::this_thread::sleep_for(300ms);  // 2.4 s in all: more than read_timeout
    }
    auto response = slow_but_steady.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 201) << response->body;
    EXPECT_EQ(json_of(*response)["hash"], std::to_string(expected_hash(size)));
  }
  {
    s.log->hold = true;  // the application pauses longer than read_timeout
    Client client(s.server->port());
    ASSERT_TRUE(client.send(post_head(300 * 1024)));
    ASSERT_TRUE(client.send_body(0, 300 * 1024));
    ASSERT_TRUE(eventually([&] { return s.log->read(&SinkLog::pieces) >= 2u; }));
    std::this_thread::sleep_for(1500ms);
    s.log->release();
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 201) << response->body;
  }
  Client stalled(s.server->port());
  ASSERT_TRUE(stalled.send(post_head(kMiB)));
  ASSERT_TRUE(stalled.send_body(0, 100 * 1024));  // then nothing
  EXPECT_TRUE(eventually([&] { return !s.log->read(&SinkLog::aborted).empty(); }, 3s));
  EXPECT_TRUE(stalled.closed_by_peer());
}
