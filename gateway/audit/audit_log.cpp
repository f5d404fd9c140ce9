#include "gateway/audit/audit_log.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "gateway/core/clock.h"

namespace xoev::audit {

namespace {
const std::string kGenesis(64, '0');
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path& file) {
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->file_ = file;
  log->prev_ = kGenesis;
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  {
    // Continue the chain: the last line's hash and seq.
    std::ifstream in(file, std::ios::binary);
    std::string line, last;
    while (std::getline(in, line))
      if (!line.empty()) last = line;
    if (!last.empty()) {
      log->prev_ = sha256_hex(last);
      const auto json = nlohmann::json::parse(last, nullptr, false);
      if (json.is_object() && json.contains("seq") && json["seq"].is_number_unsigned())
        log->seq_ = json["seq"].get<std::uint64_t>();
    }
  }
  log->out_ = std::fopen(file.c_str(), "ab");
  if (!log->out_) return Problem::make(ProblemKind::io_error, "cannot open the audit log '" + file.string() + "' for appending");
  return log;
}

AuditLog::~AuditLog() {
  if (out_) std::fclose(out_);
}

void AuditLog::record(const AuditEvent& e) {
  nlohmann::json line = {{"time", rfc3339_now()}, {"event", e.event}};
  if (!e.sender.empty()) line["sender"] = e.sender;
  if (!e.message_id.empty()) line["messageId"] = e.message_id;
  if (!e.payload_sha256.empty()) line["payloadSha256"] = e.payload_sha256;
  if (!e.payload_hashed.empty()) line["payloadHashed"] = e.payload_hashed;
  if (!e.destination.empty()) line["destination"] = e.destination;
  if (e.status != 0) line["status"] = e.status;
  if (!e.result.empty()) line["result"] = e.result;
  if (!e.detail.empty()) line["detail"] = e.detail.substr(0, 512);
  if (!e.remote_address.empty()) line["remote"] = e.remote_address;
  std::lock_guard lock(mutex_);
  line["seq"] = ++seq_;
  line["prev"] = prev_;
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (std::fwrite(text.data(), 1, text.size(), out_) != text.size() || std::fputc('\n', out_) == EOF ||
      std::fflush(out_) != 0) {
    spdlog::error("audit: cannot write to {}: the audit trail has a gap", file_.string());
  }
  prev_ = sha256_hex(text);
}

}  // namespace xoev::audit
