// The XTA mailbox on disk: what the SOAP endpoint serves and the delivery loop fills.
// The directory is the whole state, so a restarted gateway (or a second Mailbox object)
// sees exactly what was pending before:
//   <directory>/pending/<id>.msg   waiting for the Fachverfahren
//   <directory>/closed/<id>.msg    acknowledged with close (kept for audit; an operator
//                                  prunes them), and proof that a redelivery of the same
//                                  id must not reappear in the list
// Each .msg file is one line of JSON metadata followed by the exact message bytes, so
// one atomic rename publishes metadata and body together.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/outbound/outbound_adapter.h"
#include "gateway/core/file_range.h"
#include "gateway/core/result.h"

namespace xoev::xta {

// What the mailbox knows about one message (XTA MessageMetaData is built from this).
struct MailboxEntry {
  std::string message_id;
  std::string message_type;
  std::string standard;
  std::string sender;       // author, praefix:kennung
  std::string recipient;    // reader, praefix:kennung
  std::string destination;
  std::string accepted_at;  // RFC 3339, when the gateway accepted it (may be empty)
  std::string stored_at;    // RFC 3339, when it entered the mailbox
  std::string payload_namespace;  // the message root's namespace, empty if unknown
  std::size_t size = 0;     // body bytes
};

// Messages up to this size are read into memory (and sent base64 inside the SOAP
// answer); larger ones are left in their file and sent from it as an MTOM attachment.
inline constexpr std::size_t kInlineBodyBytes = 1u << 20;

struct MailboxMessage {
  MailboxEntry entry;
  std::string body;                             // entry.size <= kInlineBodyBytes
  std::shared_ptr<const FileRange> body_file;  // else: the bytes, in the mailbox file
};

enum class StoreOutcome { stored, already_present };
enum class CloseOutcome { closed, already_closed };

class Mailbox {
 public:
  // Creates the directory (and pending/, closed/) if needed: io_error if it cannot.
  static Result<std::unique_ptr<Mailbox>> open(const std::filesystem::path& directory);

  // Stores the message durably (temporary file, fsync, rename, fsync of the directory).
  // A large message (body_file) is copied file to file, never whole in memory.
  // An id already pending or closed is not stored again. An id the mailbox cannot hold
  // (empty, too long) is bad_request; a disk problem is io_error.
  Result<StoreOutcome> store(const DeliveredMessage& message);

  // Pending messages, oldest first (by stored_at, then id). Unreadable files are skipped.
  Result<std::vector<MailboxEntry>> pending() const;

  // A pending message with its bytes (or, above kInlineBodyBytes, its open file range):
  // not_found if it is not pending (unknown or closed), io_error if its file is damaged.
  Result<MailboxMessage> get(const std::string& message_id) const;

  // Acknowledges: pending → closed. Closing a closed id again is harmless; an id never
  // stored is not_found.
  Result<CloseOutcome> close(const std::string& message_id);

  // True if the id is pending or closed.
  bool knows(const std::string& message_id) const;

  const std::filesystem::path& directory() const { return directory_; }

 private:
  explicit Mailbox(std::filesystem::path directory);
  std::filesystem::path pending_path(const std::string& file) const;
  std::filesystem::path closed_path(const std::string& file) const;

  std::filesystem::path directory_;
  mutable std::mutex mutex_;  // the SOAP service and the delivery loop share one mailbox
};

// File name for a message id: unsafe bytes percent-encoded, so distinct ids never share
// a file; empty if the id cannot be a file name (empty or too long).
std::string mailbox_file_name(const std::string& message_id);

}  // namespace xoev::xta
