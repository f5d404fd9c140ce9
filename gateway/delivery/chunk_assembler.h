// Durable reassembly of chunked messages (large_format.md) in a deliverer's state
// directory, so a message is handed on only whole and verified, and a kill -9 at any
// point loses nothing that was acknowledged.
//
// Per sequence, in <state_directory>/<destination>.chunks/:
//   <seq>.part  the plaintext so far (appended; fdatasync'ed per chunk, or per flush())
//   <seq>.log   progress, appended and fdatasync'ed after the data it records:
//                 "xoev-chunks 1 <n>\n" <n bytes of metadata JSON> "\n"
//                 "C <index> <end offset>\n"                       per chunk
//                 "L <index> <end offset> <sha256> <messageId>\n"  last chunk, verified
//   <seq>.done  tombstone after release(): late re-reads of a delivered sequence are
//               skipped, not refused as gaps (removed by expire() after the timeout)
// On open() a torn last line of a log is dropped and the part file truncated to the
// recorded end, so the bytes beyond progress (a write the crash interrupted) go; a
// log that does not parse discards its sequence (named in load_notes()), never the run.
//
// Problems from add(): ProblemKind::crypto (gap, size, hash, abort, bad seq) and
// payload_too_large (too large, too many sequences, metadata too large) refuse the
// sequence; its files are gone. io_error/internal: nothing was recorded for this
// chunk; do not commit its offset, try again later.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/crypto/chunk_seal.h"

namespace xoev {

class ChunkAssembler {  // one per destination deliverer; used from one thread
 public:
  static constexpr size_t kMaxOpenSequences = 64;
  static constexpr size_t kMaxMetadataBytes = 64u << 10;
  static constexpr size_t kMaxTombstones = 4096;

  // dir: <state_directory>/<destination>.chunks (created 0700); loads what a previous
  // run left (crash recovery).
  static Result<std::unique_ptr<ChunkAssembler>> open(std::filesystem::path dir, std::chrono::seconds timeout,
                                                      uint64_t max_message_bytes);
  ~ChunkAssembler();
  ChunkAssembler(const ChunkAssembler&) = delete;
  ChunkAssembler& operator=(const ChunkAssembler&) = delete;

  struct Complete {
    std::string message_id;        // the final message id (last chunk's messageId)
    std::filesystem::path file;    // the whole plaintext, verified
    uint64_t size = 0;
    std::string sha256;            // b64url
    std::string seq;
    std::string metadata_json;     // as given with the first chunk
    uint64_t chunks = 0;
  };

  // When a chunk is durable. `now`: when add() returns ok (data fdatasync'ed, progress
  // recorded). `at_flush` (group commit: one fdatasync of the data and one of the log
  // per sequence per flush, instead of two per chunk): written when add() returns,
  // recorded and durable only after flush() succeeded; a crash before loses it from the
  // files (open() cuts the unrecorded bytes), so its offset must not be committed
  // before. A last chunk is always made durable (with the ones before it) at once.
  enum class Durability { now, at_flush };

  // One opened chunk. Durable as `durability` says, so the caller may commit the
  // chunk's offset once it is.
  // nullopt: the sequence is still incomplete, or the chunk was skipped (already held,
  // or the sequence was delivered and released). Complete: the last chunk arrived and
  // size and SHA-256 of the file match its claims (the file stays until release()).
  // metadata_json is stored when the chunk starts a sequence (index 0).
  Result<std::optional<Complete>> add(const crypto::OpenedChunk& chunk, std::string_view metadata_json,
                                      Durability durability = Durability::now);

  // Makes every chunk added `at_flush` durable. On failure (io_error) the sequence that
  // failed is put back to what its files durably record and named in `rolled_back`:
  // its unflushed chunks must be added again (a chunk held already is skipped, so
  // adding all of them again is safe), then flush() tried again.
  Status flush(std::vector<std::string>* rolled_back = nullptr);
  bool has_unflushed() const;

  // After delivery: remove the files, leave a tombstone.
  Status release(const std::string& seq);

  struct Expired {
    std::string seq;
    std::string metadata_json;
    uint64_t bytes = 0;
    uint64_t chunks = 0;
  };
  // Incomplete sequences without progress for longer than the timeout: removed and
  // returned (for the "incomplete" receipt). Old tombstones go too.
  std::vector<Expired> expire(std::chrono::system_clock::time_point now);

  // Complete sequences not yet released (after a restart: deliver these first).
  std::vector<Complete> completed() const;
  // Every sequence held, complete or not.
  std::vector<Expired> held() const;
  // What open() discarded or repaired, one line each, for the log.
  const std::vector<std::string>& load_notes() const { return load_notes_; }

  size_t open_sequences() const { return sequences_.size(); }
  uint64_t held_bytes() const;

 private:
  struct HashDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  struct Sequence {
    std::string metadata;
    uint64_t chunks = 0;  // held: indexes 0 .. chunks-1
    uint64_t bytes = 0;
    uint64_t log_bytes = 0;  // where the next progress line goes
    std::string unflushed;   // progress lines of chunks added at_flush, not yet in the log
    bool complete = false;
    std::string sha256;      // when complete
    std::string message_id;  // when complete
    std::unique_ptr<EVP_MD_CTX, HashDeleter> hash;  // over bytes, while incomplete
    std::chrono::system_clock::time_point last_progress;
  };

  ChunkAssembler(std::filesystem::path dir, std::chrono::seconds timeout, uint64_t max_message_bytes);
  Status load();
  std::optional<std::string> load_sequence(const std::string& seq);
  Result<std::optional<Complete>> start(const crypto::OpenedChunk& chunk, std::string_view metadata_json);
  Result<std::optional<Complete>> append(const std::string& seq, Sequence& s, const crypto::OpenedChunk& chunk,
                                         Durability durability);
  Status flush_sequence(const std::string& seq, Sequence& s);
  void reload(const std::string& seq);  // after a failed write: back to what the files record
  Problem refuse(const std::string& seq, ProblemKind kind, const std::string& detail);
  void remove_files(const std::string& seq);
  Complete complete_of(const std::string& seq, const Sequence& s) const;
  std::filesystem::path part_path(const std::string& seq) const;
  std::filesystem::path log_path(const std::string& seq) const;
  std::filesystem::path done_path(const std::string& seq) const;

  std::filesystem::path dir_;
  std::chrono::seconds timeout_;
  uint64_t max_message_bytes_;
  std::map<std::string, Sequence> sequences_;
  std::map<std::string, std::chrono::system_clock::time_point> released_;  // tombstones
  std::vector<std::string> load_notes_;
};

}  // namespace xoev
