// `xoevgate send --url URL FILE...`: submits each file to a gateway as
// POST /v1/messages and prints one JSON line per file, for people and scripts.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gateway/cli/command.h"
#include "gateway/http/http_client.h"

namespace {

struct SendArgs {
  std::string url;
  std::vector<std::string> files;
  double timeout_seconds = 30;
  std::string ca_file, certificate, key;
};

// The gateway's base URL gets the submission path; a full submission URL is kept.
std::string submission_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  const std::string path = "/v1/messages";
  if (url.size() >= path.size() && url.compare(url.size() - path.size(), path.size(), path) == 0) return url;
  return url + path;
}

xoev::Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return xoev::Problem::make(xoev::ProblemKind::io_error, "cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return xoev::Problem::make(xoev::ProblemKind::io_error, "cannot read " + path);
  return bytes.str();
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
  options.total_timeout = std::chrono::milliseconds(static_cast<long long>(args.timeout_seconds * 1000));
  options.connect_timeout = std::min(options.total_timeout, std::chrono::milliseconds(5000));
  options.ca_file = args.ca_file;
  options.client_certificate = args.certificate;
  options.client_key = args.key;
  auto client = xoev::http::HttpClient::create(options);
  if (!client) return xoev::cli::fail(client.problem());
  const std::string url = submission_url(args.url);

  int exit_code = 0;
  for (const auto& file : args.files) {
    auto body = read_file(file);
    xoev::Result<xoev::http::HttpClientResponse> response =
        body ? client->send({"POST", url, {{"Content-Type", "application/xml"}, {"Accept", "application/json"}},
                             std::move(body).value()})
             : xoev::Result<xoev::http::HttpClientResponse>(body.problem());
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
                   sub.add_option("--timeout", args->timeout_seconds, "seconds per file (default 30)")
                       ->check(CLI::PositiveNumber);
                   sub.add_option("--cacert", args->ca_file, "PEM CA bundle for https (default: system store)");
                   sub.add_option("--cert", args->certificate, "PEM client certificate for mutual TLS");
                   sub.add_option("--key", args->key, "PEM private key of --cert");
                   return [args] { return run_send(*args); };
                 });

}  // namespace
