// What authentication adds per request on the accept path, next to what a message
// costs anyway (bench_ingest's BM_InspectRouteSeal: inspect + route + seal):
//  - BM_AuthGatewayToken: a bearer token of POST /v1/token sent again (as clients do
//    for its lifetime): found among the verified tokens;
//  - BM_AuthIdpToken: the same for an external IdP's ES256 token;
//  - BM_AuthIdpTokenFirstUse: every request a token not seen before, so each is
//    verified (ES256 signature, iss/aud/exp/nbf) against the IdP's JWKS, loaded once at
//    start and kept ("cached JWKS");
//  - BM_AuthClientCertificate: a client certificate already read from the session,
//    mapped to its sender;
//  - BM_TlsResumedHandshake / BM_TlsFullHandshake: a mutual-TLS connection set up with
//    session resumption (the client offers its session) or without, in memory (no
//    sockets), the server side being the gateway's own TLS context; then the peer
//    certificate is read and authenticated. Per connection, not per request: a client
//    that keeps its connection open pays it once for many messages.
// The README's "Authentication cost" figures come from one run of this binary.
#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "gateway/auth/authenticator.h"
#include "gateway/auth/secret_hash.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/jws.h"
#include "gateway/http/peer_certificate.h"
#include "gateway/http/tls_context_source.h"

using namespace xoev;
namespace fs = std::filesystem;

namespace {

void sh(const std::string& command) {
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "bench_auth: failed: %s\n", command.c_str());
    std::exit(2);
  }
}

struct Fixture {
  fs::path dir;
  std::shared_ptr<const auth::Authenticator> authenticator;
  std::string gateway_token, idp_token, client_fingerprint;
  std::vector<std::string> fresh_idp_tokens;  // more than twice the verified-token cache: never hits
  std::shared_ptr<boost::asio::ssl::context> server;
  SSL_CTX* client = nullptr;

  Fixture() {
    dir = fs::temp_directory_path() / ("xoev-bench-auth-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string d = dir.string();
    // A CA, the server's certificate and a client's, as an operator would have them.
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 ";
    sh("cd " + d + " && openssl req -x509" + ec + "-subj /CN=ca -keyout ca.key -out ca.pem 2>/dev/null");
    for (const char* name : {"server", "client"})
      sh("cd " + d + " && openssl req" + ec + "-subj /CN=" + name + " -keyout " + name + ".key -out " + name +
         ".csr 2>/dev/null && openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out " +
         name + ".pem 2>/dev/null");
    sh("cd " + d + " && openssl x509 -in client.pem -noout -fingerprint -sha256 | cut -d= -f2 > client.fp");
    std::ifstream(dir / "client.fp") >> client_fingerprint;

    auto token_key = crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "gw", "ES256");
    auto idp_key = crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "idp", "ES256");
    if (!token_key || !idp_key) std::exit(2);
    std::ofstream(dir / "idp.jwks.json") << nlohmann::json{{"keys", {idp_key->to_json(false)}}}.dump();

    SecuritySection security;
    SenderSection by_secret;
    by_secret.id = "fachverfahren";
    by_secret.client_id = "fachverfahren";
    by_secret.client_secret_hash = *auth::hash_secret("a-secret-of-sixteen-plus", 10000);
    by_secret.may_send.push_back({});
    SenderSection by_idp;
    by_idp.id = "portal";
    by_idp.jwt = JwtTrustSection{"https://idp.test", "xoevgate", dir / "idp.jwks.json"};
    by_idp.may_send.push_back({});
    SenderSection by_certificate;
    by_certificate.id = "dienst";
    by_certificate.client_certificate_sha256 = client_fingerprint;
    by_certificate.may_send.push_back({});
    security.senders = {by_secret, by_idp, by_certificate};
    auto built = auth::Authenticator::build(security, std::make_shared<const crypto::Jwk>(*token_key));
    if (!built) {
      std::fprintf(stderr, "bench_auth: %s\n", built.problem().one_line().c_str());
      std::exit(2);
    }
    authenticator = *built;
    auto issued = authenticator->issue_token("fachverfahren", "a-secret-of-sixteen-plus", std::chrono::system_clock::now());
    if (!issued) std::exit(2);
    gateway_token = issued->access_token;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    const nlohmann::json claims = {{"iss", "https://idp.test"}, {"aud", "xoevgate"}, {"sub", "portal"},
                                   {"iat", now}, {"exp", now + 3600}};
    auto signed_token = crypto::jws_sign(claims.dump(), *idp_key, {{"typ", "JWT"}});
    if (!signed_token) {
      std::fprintf(stderr, "bench_auth: %s\n", signed_token.problem().one_line().c_str());
      std::exit(2);
    }
    idp_token = *signed_token;
    for (int i = 0; i < 9000; ++i) {
      nlohmann::json c = claims;
      c["jti"] = std::to_string(i);
      fresh_idp_tokens.push_back(*crypto::jws_sign(c.dump(), *idp_key, {{"typ", "JWT"}}));
    }

    auto context = http::make_server_tls_context({dir / "server.pem", dir / "server.key", dir / "ca.pem"});
    if (!context) std::exit(2);
    server = *context;
    client = SSL_CTX_new(TLS_client_method());
    // TLS 1.2: the session is there right after the handshake (1.3 sends tickets later);
    // the gateway resumes both.
    SSL_CTX_set_max_proto_version(client, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(client, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_use_certificate_chain_file(client, (dir / "client.pem").c_str());
    SSL_CTX_use_PrivateKey_file(client, (dir / "client.key").c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_load_verify_locations(client, (dir / "ca.pem").c_str(), nullptr);
    SSL_CTX_set_verify(client, SSL_VERIFY_PEER, nullptr);
  }
  ~Fixture() {
    SSL_CTX_free(client);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

http::HttpRequest bearer(const std::string& token) {
  http::HttpRequest r;
  r.method = "POST";
  r.path = "/v1/messages";
  r.headers.emplace_back("Authorization", "Bearer " + token);
  return r;
}

void BM_AuthGatewayToken(benchmark::State& state) {
  auto& f = fixture();
  const auto request = bearer(f.gateway_token);
  for (auto _ : state) {
    auto id = f.authenticator->authenticate(request, std::chrono::system_clock::now());
    if (!id) state.SkipWithError(id.problem().detail.c_str());
    benchmark::DoNotOptimize(id);
  }
}
BENCHMARK(BM_AuthGatewayToken)->Unit(benchmark::kMicrosecond);

void BM_AuthIdpToken(benchmark::State& state) {
  auto& f = fixture();
  const auto request = bearer(f.idp_token);
  for (auto _ : state) {
    auto id = f.authenticator->authenticate(request, std::chrono::system_clock::now());
    if (!id) state.SkipWithError(id.problem().detail.c_str());
    benchmark::DoNotOptimize(id);
  }
}
BENCHMARK(BM_AuthIdpToken)->Unit(benchmark::kMicrosecond);

void BM_AuthIdpTokenFirstUse(benchmark::State& state) {
  auto& f = fixture();
  std::vector<http::HttpRequest> requests;
  for (const auto& t : f.fresh_idp_tokens) requests.push_back(bearer(t));
  std::size_t next = 0;
  for (auto _ : state) {
    auto id = f.authenticator->authenticate(requests[next], std::chrono::system_clock::now());
    if (!id) state.SkipWithError(id.problem().detail.c_str());
    benchmark::DoNotOptimize(id);
    next = (next + 1) % requests.size();
  }
}
BENCHMARK(BM_AuthIdpTokenFirstUse)->Unit(benchmark::kMicrosecond);

void BM_AuthClientCertificate(benchmark::State& state) {
  auto& f = fixture();
  http::HttpRequest request;
  request.client_certificate = http::PeerCertificate{f.client_fingerprint, "CN=client", true, ""};
  for (auto _ : state) {
    auto id = f.authenticator->authenticate(request, std::chrono::system_clock::now());
    if (!id) state.SkipWithError(id.problem().detail.c_str());
    benchmark::DoNotOptimize(id);
  }
}
BENCHMARK(BM_AuthClientCertificate)->Unit(benchmark::kMicrosecond);

// One mutual-TLS handshake through a BIO pair, then the server reads the client's
// certificate and authenticates it, as a session of the gateway does. `session`: offered
// for resumption when set, else set to the new one. 0: failed, 1: full, 2: resumed.
int connect_and_authenticate(Fixture& f, SSL_SESSION** session) {
  SSL* c = SSL_new(f.client);
  SSL* s = SSL_new(f.server->native_handle());
  BIO *cb = nullptr, *sb = nullptr;
  BIO_new_bio_pair(&cb, 0, &sb, 0);
  SSL_set_bio(c, cb, cb);
  SSL_set_bio(s, sb, sb);
  SSL_set_connect_state(c);
  SSL_set_accept_state(s);
  if (*session) SSL_set_session(c, *session);
  bool c_done = false, s_done = false;
  for (int round = 0; round < 20 && !(c_done && s_done); ++round) {
    if (!c_done) c_done = SSL_do_handshake(c) == 1;
    if (!s_done) s_done = SSL_do_handshake(s) == 1;
  }
  int outcome = 0;
  if (c_done && s_done) {
    http::HttpRequest request;
    request.client_certificate = http::read_peer_certificate(s);
    if (request.client_certificate && f.authenticator->authenticate(request, std::chrono::system_clock::now()))
      outcome = SSL_session_reused(c) ? 2 : 1;
    if (!*session) *session = SSL_get1_session(c);
  }
  // A clean close: a session torn down without close_notify is not resumable.
  SSL_shutdown(c);
  SSL_shutdown(s);
  SSL_free(c);
  SSL_free(s);
  return outcome;
}

void BM_TlsResumedHandshake(benchmark::State& state) {
  auto& f = fixture();
  SSL_SESSION* session = nullptr;
  if (connect_and_authenticate(f, &session) != 1 || !session) state.SkipWithError("first handshake failed");
  for (auto _ : state)
    if (connect_and_authenticate(f, &session) != 2) state.SkipWithError("the session was not resumed");
  SSL_SESSION_free(session);
}
BENCHMARK(BM_TlsResumedHandshake)->Unit(benchmark::kMicrosecond);

void BM_TlsFullHandshake(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) {
    SSL_SESSION* none = nullptr;
    if (connect_and_authenticate(f, &none) != 1) state.SkipWithError("handshake failed");
    SSL_SESSION_free(none);
  }
}
BENCHMARK(BM_TlsFullHandshake)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
