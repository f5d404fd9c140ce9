// `xoevgate send --url URL FILE...`: submits each file to a gateway as
// POST /v1/messages and prints one JSON line per file, for people and scripts.
// Credentials: --token, or --client-id/--client-secret (a token from POST /v1/token,
// client_secret_basic), and/or --cert/--key for mutual TLS. 429 and 503 are retried
// after the gateway's Retry-After (at most --retries times). Files are streamed from
// disk, never held whole; for files over 8 MiB progress goes to stderr when it is a
// terminal or --progress is given (stdout stays one JSON line per file).
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>
#include <iostream>
#include <nlohmann/json.hpp>

#include "gateway/cli/command.h"
#include "gateway/http/http_client.h"

namespace {

struct SendArgs {
  std::string url;
  std::vector<std::string> files;
  double timeout_seconds = 30;
  std::string ca_file, certificate, key;
  std::string token, client_id, client_secret;
  int retries = 5;
  bool progress = false;
};

constexpr std::uint64_t kProgressAboveBytes = 8u << 20;
constexpr std::chrono::milliseconds kProgressInterval{500};

std::string mebibytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

// "FILE: 120.0 MiB / 1024.0 MiB (11%), 85.3 MiB/s" at most twice a second, on one
// line rewritten in place on a terminal.
class ProgressLine {
 public:
  explicit ProgressLine(std::string file)
      : file_(std::move(file)), terminal_(::isatty(STDERR_FILENO) == 1), started_(std::chrono::steady_clock::now()) {}
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() {
    if (shown_ && terminal_) std::cerr << std::endl;
  }

  void operator()(std::uint64_t sent, std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (sent < total && shown_ && now - last_shown_ < kProgressInterval) return;
    last_shown_ = now;
    shown_ = true;
    const double seconds = std::max(std::chrono::duration<double>(now - started_).count(), 1e-3);
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f MiB/s", static_cast<double>(sent) / seconds / (1024.0 * 1024.0));
    std::cerr << (terminal_ ? "\r" : "") << file_ << ": " << mebibytes(sent) << " / " << mebibytes(total) << " ("
              << (total == 0 ? 100 : sent * 100 / total) << "%), " << rate << (terminal_ ? "\x1b[K" : "\n")
              << std::flush;
  }

 private:
  std::string file_;
  bool terminal_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point started_, last_shown_;
};

constexpr std::chrono::seconds kMaxRetryWait{60};

std::string base_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  const std::string path = "/v1/messages";
  if (url.size() >= path.size() && url.compare(url.size() - path.size(), path.size(), path) == 0)
    url.resize(url.size() - path.size());
  return url;
}

// The gateway's base URL gets the submission path; a full submission URL is kept.
std::string submission_url(const std::string& url) { return base_url(url) + "/v1/messages"; }

std::string form_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

// OAuth 2.0 client credentials (RFC 6749 §4.4) with client_secret_basic.
xoev::Result<std::string> fetch_token(const xoev::http::HttpClient& client, const SendArgs& args) {
  const std::string basic = base64(form_encode(args.client_id) + ":" + form_encode(args.client_secret));
  auto response = client.send({"POST", base_url(args.url) + "/v1/token",
                               {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", "Basic " + basic}},
                               "grant_type=client_credentials"});
  if (!response) return std::move(response).problem();
  const auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status != 200 || !body.is_object() || !body.contains("access_token") || !body["access_token"].is_string())
    return xoev::Problem::make(
        xoev::ProblemKind::unauthenticated,
        "the gateway issued no token (HTTP " + std::to_string(response->status) + "): " +
            (body.is_object() ? body.value("error_description", body.value("error", std::string())) : response->body.substr(0, 200)));
  return body["access_token"].get<std::string>();
}

std::chrono::seconds retry_after(const xoev::http::HttpClientResponse& response) {
  long long seconds = 1;
  try {
    seconds = std::stoll(response.header("retry-after"));
  } catch (...) {
  }
  return std::min<std::chrono::seconds>(std::chrono::seconds(std::max(seconds, 1LL)), kMaxRetryWait);
}

// Streams `file` as the body; with progress on stderr when asked and the file is large.
xoev::Result<xoev::http::HttpClientResponse> post_file(const xoev::http::HttpClient& client,
                                                       const xoev::http::HttpClientRequest& request,
                                                       const std::string& file, bool progress) {
  xoev::http::HttpClientFileBody body;
  body.path = file;
  std::error_code size_error;
  const auto size = std::filesystem::file_size(file, size_error);
  std::optional<ProgressLine> line;
  if (progress && !size_error && size > kProgressAboveBytes) {
    line.emplace(file);
    body.on_progress = [&line](std::uint64_t sent, std::uint64_t total) { (*line)(sent, total); };
  }
  return client.send(request, body);
}

// The gateway answers JSON; anything else is shown as a string rather than lost.
nlohmann::json parse_body(const std::string& body) {
  if (body.empty()) return nullptr;
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(body) : parsed;
}

void print_line(const nlohmann::json& line) {
  std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

int run_send(const SendArgs& args) {
  xoev::http::HttpClient::Options options;
  // Per file; while a file is being sent it bounds progress (each piece), not the whole file.
  options.total_timeout = std::chrono::milliseconds(static_cast<long long>(args.timeout_seconds * 1000));
  options.connect_timeout = std::min(options.total_timeout, std::chrono::milliseconds(5000));
  options.ca_file = args.ca_file;
  options.client_certificate = args.certificate;
  options.client_key = args.key;
  auto client = xoev::http::HttpClient::create(options);
  if (!client) return xoev::cli::fail(client.problem());
  const std::string url = submission_url(args.url);
  std::string token = args.token;
  if (token.empty() && !args.client_id.empty()) {
    auto fetched = fetch_token(*client, args);
    if (!fetched) return xoev::cli::fail(fetched.problem());
    token = std::move(fetched).value();
  }
  xoev::http::HeaderList headers = {{"Content-Type", "application/xml"}, {"Accept", "application/json"}};
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);

  int exit_code = 0;
  const bool progress = args.progress || ::isatty(STDERR_FILENO) == 1;
  const xoev::http::HttpClientRequest request{"POST", url, headers, ""};
  for (const auto& file : args.files) {
    auto response = post_file(*client, request, file, progress);
    for (int attempt = 0; attempt < args.retries && response && (response->status == 429 || response->status == 503);
         ++attempt) {
      std::this_thread::sleep_for(retry_after(*response));
      response = post_file(*client, request, file, progress);
    }
    if (!response) {
      print_line({{"file", file}, {"error", response.problem().to_json()}});
      xoev::cli::fail(response.problem());
      exit_code = 2;
      continue;
    }
    print_line({{"file", file}, {"status", response->status}, {"response", parse_body(response->body)}});
    if ((response->status < 200 || response->status > 299) && exit_code == 0) exit_code = 1;
  }
  return exit_code;
}

XOEVGATE_COMMAND("send", "submit XML files to a gateway (POST /v1/messages), one JSON line per file",
                 [](CLI::App& sub) {
                   auto args = std::make_shared<SendArgs>();
                   sub.add_option("--url", args->url, "gateway base URL, e.g. http://127.0.0.1:8080")->required();
                   sub.add_option("files", args->files, "XML files to submit")->required();
                   sub.add_option("--timeout", args->timeout_seconds, "seconds per file; for a large one, per piece sent (default 30)")
                       ->check(CLI::PositiveNumber);
                   sub.add_option("--cacert", args->ca_file, "PEM CA bundle for https (default: system store)");
                   sub.add_option("--cert", args->certificate, "PEM client certificate for mutual TLS");
                   sub.add_option("--key", args->key, "PEM private key of --cert");
                   sub.add_option("--token", args->token, "bearer token (Authorization: Bearer)");
                   sub.add_option("--client-id", args->client_id, "fetch a token from POST /v1/token with this client id");
                   sub.add_option("--client-secret", args->client_secret,
                                  "its secret (default: $XOEVGATE_CLIENT_SECRET, which `ps` does not show)");
                   sub.add_option("--retries", args->retries, "retries of 429/503 after Retry-After (default 5)")
                       ->check(CLI::Range(0, 100));
                   sub.add_flag("--progress", args->progress,
                                "show progress of files over 8 MiB on stderr (default: when stderr is a terminal)");
                   return [args] {
                     if (args->client_secret.empty())
                       if (const char* env = std::getenv("XOEVGATE_CLIENT_SECRET")) args->client_secret = env;
                     if (!args->client_id.empty() && args->client_secret.empty())
                       return xoev::cli::fail(xoev::Problem::make(
                           xoev::ProblemKind::usage, "--client-id needs --client-secret or $XOEVGATE_CLIENT_SECRET"));
                     return run_send(*args);
                   };
                 });

}  // namespace
