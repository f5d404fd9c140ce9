#include "gateway/delivery/chunk_assembler.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "gateway/crypto/base64url.h"
#include "tests/support/files.h"

namespace xoev {
namespace {

namespace fs = std::filesystem;
using crypto::OpenedChunk;
using namespace std::chrono_literals;

const std::string kSeq = "7c0e5a1b-2d3f-4e6a-8b9c-0d1e2f3a4b5c";
const std::string kMeta = R"({"message_type":"xbau.0200","sender":"psw:06412000"})";

std::string sha256_b64url(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return crypto::base64url_encode({reinterpret_cast<char*>(md), len});
}

std::string pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + i / 251) & 0xff);
  return s;
}

// The opened chunks of `whole` cut every `chunk_bytes`, as open_chunk() returns them.
std::vector<OpenedChunk> chunks_of(const std::string& whole, size_t chunk_bytes, const std::string& seq = kSeq) {
  std::vector<OpenedChunk> out;
  const size_t n = (whole.size() + chunk_bytes - 1) / chunk_bytes;
  for (size_t i = 0; i < n; ++i) {
    OpenedChunk c;
    c.plaintext = whole.substr(i * chunk_bytes, chunk_bytes);
    c.claims.seq = seq;
    c.claims.index = i;
    c.claims.last = i + 1 == n;
    if (c.claims.last) {
      c.claims.count = n;
      c.claims.size = whole.size();
      c.claims.sha256 = sha256_b64url(whole);
      c.claims.message_id = "final-" + seq;
    }
    out.push_back(std::move(c));
  }
  return out;
}

OpenedChunk abort_chunk(uint64_t index, const std::string& reason) {
  OpenedChunk c;
  c.claims.seq = kSeq;
  c.claims.index = index;
  c.claims.last = true;
  c.claims.abort = reason;
  return c;
}

class ChunkAssemblerTest : public ::testing::Test {
 protected:
  fs::path dir() const { return tmp_.path / "standesamt.chunks"; }
  std::unique_ptr<ChunkAssembler> open_assembler(uint64_t max_bytes = 1u << 20, std::chrono::seconds timeout = 900s) {
    auto a = ChunkAssembler::open(dir(), timeout, max_bytes);
    EXPECT_TRUE(a) << a.problem().one_line();
    return a ? std::move(a).value() : nullptr;
  }
  // Adds every chunk in [from, to); all but a last one must leave the sequence open.
  std::optional<ChunkAssembler::Complete> add_range(ChunkAssembler& a, const std::vector<OpenedChunk>& chunks,
                                                    size_t from, size_t to) {
    std::optional<ChunkAssembler::Complete> done;
    for (size_t i = from; i < to; ++i) {
      auto r = a.add(chunks[i], kMeta);
      EXPECT_TRUE(r) << "chunk " << i << ": " << r.problem().one_line();
      if (!r) return std::nullopt;
      EXPECT_EQ(r->has_value(), chunks[i].claims.last) << "chunk " << i;
      done = *r;
    }
    return done;
  }
  void expect_refused(ChunkAssembler& a, const OpenedChunk& c, const std::string& starts) {
    auto r = a.add(c, kMeta);
    ASSERT_FALSE(r) << "accepted chunk " << c.claims.index;
    EXPECT_EQ(r.problem().detail.rfind(starts, 0), 0u) << r.problem().detail;
    EXPECT_FALSE(fs::exists(dir() / (c.claims.seq + ".part")));
    EXPECT_FALSE(fs::exists(dir() / (c.claims.seq + ".log")));
  }
  test::TempDir tmp_;
  const std::string whole_ = pattern(10 * 1000 + 123, 1);
  const std::vector<OpenedChunk> chunks_ = chunks_of(whole_, 1000);  // 11 chunks, the last 123 bytes
};

TEST_F(ChunkAssemblerTest, InOrderCompletesWithTheIdenticalBytes) {
  auto a = open_assembler();
  struct stat st {};
  ASSERT_EQ(::stat(dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto done = add_range(*a, chunks_, 0, chunks_.size() - 1);
  EXPECT_FALSE(done);
  EXPECT_EQ(a->open_sequences(), 1u);
  EXPECT_EQ(a->held_bytes(), 10000u);
  done = add_range(*a, chunks_, chunks_.size() - 1, chunks_.size());
  ASSERT_TRUE(done);
  EXPECT_EQ(done->message_id, "final-" + kSeq);
  EXPECT_EQ(done->size, whole_.size());
  EXPECT_EQ(done->chunks, 11u);
  EXPECT_EQ(done->sha256, sha256_b64url(whole_));
  EXPECT_EQ(done->metadata_json, kMeta);
  EXPECT_EQ(test::read_file(done->file), whole_);
  ASSERT_TRUE(a->release(kSeq));
  EXPECT_FALSE(fs::exists(done->file));
  EXPECT_EQ(a->open_sequences(), 0u);
}

TEST_F(ChunkAssemblerTest, ARepeatedChunkIsSkippedWithoutWriting) {
  auto a = open_assembler();
  add_range(*a, chunks_, 0, 3);
  const auto part = dir() / (kSeq + ".part");
  const auto log = dir() / (kSeq + ".log");
  const auto part_size = fs::file_size(part), log_size = fs::file_size(log);
  for (size_t i : {1, 2}) {
    auto r = a->add(chunks_[i], kMeta);
    ASSERT_TRUE(r) << r.problem().one_line();
    EXPECT_FALSE(r->has_value());
  }
  EXPECT_EQ(fs::file_size(part), part_size);
  EXPECT_EQ(fs::file_size(log), log_size);
  auto done = add_range(*a, chunks_, 3, chunks_.size());
  ASSERT_TRUE(done);
  EXPECT_EQ(test::read_file(done->file), whole_);
}

TEST_F(ChunkAssemblerTest, AGapRefusesTheSequence) {
  auto a = open_assembler();
  add_range(*a, chunks_, 0, 3);
  expect_refused(*a, chunks_[4], "gap: ");
  EXPECT_EQ(a->open_sequences(), 0u);
  expect_refused(*a, chunks_[5], "gap: ");  // the rest of a refused sequence stays refused
  // A sequence that starts beyond 0 was never begun.
  expect_refused(*a, chunks_of(whole_, 1000, "other-seq")[2], "gap: ");
}

TEST_F(ChunkAssemblerTest, IndexZeroRestartsAHeldSequence) {
  auto a = open_assembler();
  add_range(*a, chunks_, 0, 5);
  const std::string resent = pattern(2500, 9);
  auto again = chunks_of(resent, 1000);
  auto done = add_range(*a, again, 0, again.size());
  ASSERT_TRUE(done);
  EXPECT_EQ(test::read_file(done->file), resent);
  EXPECT_EQ(done->chunks, 3u);
}

TEST_F(ChunkAssemblerTest, AnAbortRecordDiscardsAtOnce) {
  auto a = open_assembler();
  add_range(*a, chunks_, 0, 4);
  expect_refused(*a, abort_chunk(4, "sender disconnected"), "aborted: sender disconnected");
  EXPECT_EQ(a->open_sequences(), 0u);
  EXPECT_EQ(a->held_bytes(), 0u);
}

TEST_F(ChunkAssemblerTest, FinalSizeOrHashMismatchRefuses) {
  auto a = open_assembler();
  add_range(*a, chunks_, 0, chunks_.size() - 1);
  auto wrong_size = chunks_.back();
  wrong_size.claims.size += 1;
  expect_refused(*a, wrong_size, "size: ");

  add_range(*a, chunks_, 0, chunks_.size() - 1);
  auto wrong_hash = chunks_.back();
  wrong_hash.claims.sha256 = sha256_b64url(whole_ + "x");
  expect_refused(*a, wrong_hash, "hash: ");

  // A chunk swapped for another of the same length: only the hash can tell.
  add_range(*a, chunks_, 0, 2);
  auto swapped = chunks_[2];
  swapped.plaintext = pattern(1000, 5);
  ASSERT_TRUE(a->add(swapped, kMeta));
  add_range(*a, chunks_, 3, chunks_.size() - 1);
  expect_refused(*a, chunks_.back(), "hash: ");
}

TEST_F(ChunkAssemblerTest, TheSizeLimitRefusesBeforeWriting) {
  auto a = open_assembler(/*max_bytes=*/2500);
  add_range(*a, chunks_, 0, 2);
  expect_refused(*a, chunks_[2], "too large: ");
  // The claim of a last chunk beyond the limit, too (a short last chunk that claims much).
  auto small = chunks_of(pattern(1500, 3), 1000);
  add_range(*a, small, 0, 1);
  small[1].claims.size = 1u << 30;
  auto r = a->add(small[1], kMeta);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.problem().kind, ProblemKind::payload_too_large);
}

TEST_F(ChunkAssemblerTest, OpenSequencesAndMetadataAreBounded) {
  auto a = open_assembler();
  for (size_t i = 0; i < ChunkAssembler::kMaxOpenSequences; ++i)
    ASSERT_TRUE(a->add(chunks_of("abcd", 2, "seq-" + std::to_string(i))[0], kMeta));
  auto r = a->add(chunks_[0], kMeta);
  ASSERT_FALSE(r);
  EXPECT_NE(r.problem().detail.find("too many sequences"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir() / (kSeq + ".part")));
  ASSERT_TRUE(a->release("seq-0"));
  EXPECT_FALSE(a->add(chunks_[0], std::string(ChunkAssembler::kMaxMetadataBytes + 1, 'm')));
  EXPECT_TRUE(a->add(chunks_[0], kMeta));
}

TEST_F(ChunkAssemblerTest, HostileSeqNeverBecomesAPath) {
  auto a = open_assembler();
  for (const std::string& seq : std::vector<std::string>{"../escape", "a/b", "", ".hidden", std::string(200, 'a')}) {
    auto c = chunks_[0];
    c.claims.seq = seq;
    EXPECT_FALSE(a->add(c, kMeta)) << seq;
  }
  EXPECT_TRUE(fs::is_empty(dir()));
  EXPECT_FALSE(fs::exists(tmp_.path / "escape.part"));
}

TEST_F(ChunkAssemblerTest, IdleSequencesExpireWithTheirMetadataCompleteOnesStay) {
  auto a = open_assembler(1u << 20, 60s);
  add_range(*a, chunks_, 0, 3);
  auto other = chunks_of("abc", 2, "complete-seq");
  ASSERT_TRUE(add_range(*a, other, 0, 2));
  const auto now = std::chrono::system_clock::now();
  EXPECT_TRUE(a->expire(now + 30s).empty());
  auto gone = a->expire(now + 61s);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].seq, kSeq);
  EXPECT_EQ(gone[0].metadata_json, kMeta);
  EXPECT_EQ(gone[0].bytes, 3000u);
  EXPECT_EQ(gone[0].chunks, 3u);
  EXPECT_FALSE(fs::exists(dir() / (kSeq + ".part")));
  EXPECT_EQ(a->open_sequences(), 1u);  // the complete one waits for delivery
  // Its late chunks after the expiry: a gap, never a partial delivery.
  expect_refused(*a, chunks_[3], "gap: ");
}

// kill -9 between the data write and its progress record: the part holds bytes the
// log does not, and the log may end in half a line. Reopening continues correctly.
TEST_F(ChunkAssemblerTest, CrashRecoveryCutsUnrecordedBytesAndContinues) {
  {
    auto a = open_assembler();
    add_range(*a, chunks_, 0, 4);
  }
  test::write_file(dir() / "orphan-seq.part", "data without a log");
  {
    std::ofstream part(dir() / (kSeq + ".part"), std::ios::binary | std::ios::app);
    part << pattern(777, 4);  // chunk 4 half written, with other bytes
    std::ofstream log(dir() / (kSeq + ".log"), std::ios::binary | std::ios::app);
    log << "C 4 50";  // torn progress line
  }
  auto a = open_assembler();
  EXPECT_EQ(a->open_sequences(), 1u);
  EXPECT_EQ(a->held_bytes(), 4000u);
  EXPECT_EQ(fs::file_size(dir() / (kSeq + ".part")), 4000u);
  EXPECT_FALSE(fs::exists(dir() / "orphan-seq.part"));
  EXPECT_FALSE(a->load_notes().empty());
  auto held = a->held();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].metadata_json, kMeta);
  // The re-read after the restart begins at the last committed offset: chunk 3 again.
  auto done = add_range(*a, chunks_, 3, chunks_.size());
  ASSERT_TRUE(done);
  EXPECT_EQ(test::read_file(done->file), whole_);
  // A second restart: the log is consistent again.
  a.reset();
  a = open_assembler();
  ASSERT_EQ(a->completed().size(), 1u);
}

// A real kill -9 of a process in the middle of adding: whatever moment it hits, the
// next run loads the state, takes the re-read chunks and completes byte-identically.
TEST_F(ChunkAssemblerTest, KillNineAtAnyMomentLeavesAStateThatCompletes) {
  const std::string big = pattern(300 * 4096 + 17, 6);
  const auto chunks = chunks_of(big, 4096);
  for (int delay_ms : {3, 15, 40}) {
    SCOPED_TRACE(delay_ms);
    fs::remove_all(dir());
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto a = ChunkAssembler::open(dir(), 900s, 1u << 30);
      if (!a) ::_exit(2);
      for (size_t i = 0; i + 1 < chunks.size(); ++i)
        if (!(*a)->add(chunks[i], kMeta)) ::_exit(3);
      ::pause();  // all but the last added: wait for the kill
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    auto a = open_assembler(1u << 30);
    const auto held = a->held();
    const uint64_t from = held.empty() ? 0 : held[0].chunks;
    // Re-read from a committed offset somewhat before the recorded progress.
    auto done = add_range(*a, chunks, from > 3 ? from - 3 : 0, chunks.size());
    ASSERT_TRUE(done);
    EXPECT_EQ(done->size, big.size());
    EXPECT_TRUE(test::read_file(done->file) == big);
  }
}

// Group commit: chunks added at_flush are written but recorded only by flush(); a
// process that dies before it (a second assembler opened on the directory stands in
// for the restart) holds what the last flush recorded, and a re-read completes.
TEST_F(ChunkAssemblerTest, ChunksAddedAtFlushAreRecordedOnlyByTheFlush) {
  auto a = open_assembler();
  add_range(*a, chunks_, 0, 1);
  for (size_t i = 1; i < 5; ++i) {
    auto r = a->add(chunks_[i], kMeta, ChunkAssembler::Durability::at_flush);
    ASSERT_TRUE(r) << r.problem().one_line();
    EXPECT_FALSE(r->has_value());
  }
  EXPECT_TRUE(a->has_unflushed());
  EXPECT_EQ(a->held_bytes(), 5000u);
  {
    auto restarted = open_assembler();  // what a crash now would leave
    ASSERT_EQ(restarted->held().size(), 1u);
    EXPECT_EQ(restarted->held()[0].chunks, 1u) << "nothing added at_flush is recorded before the flush";
  }
  // That second open cut the unrecorded bytes: the first assembler's flush must not
  // record chunks whose data is gone, so it stands in for a fresh process from here on.
  a = open_assembler();
  for (size_t i = 1; i < 5; ++i) ASSERT_TRUE(a->add(chunks_[i], kMeta, ChunkAssembler::Durability::at_flush));
  ASSERT_TRUE(a->flush());
  EXPECT_FALSE(a->has_unflushed());
  {
    auto restarted = open_assembler();
    ASSERT_EQ(restarted->held().size(), 1u);
    EXPECT_EQ(restarted->held()[0].chunks, 5u);
    EXPECT_EQ(fs::file_size(dir() / (kSeq + ".part")), 5000u);
  }
  // A last chunk is recorded at once, with whatever was added at_flush before it.
  for (size_t i = 5; i + 1 < chunks_.size(); ++i)
    ASSERT_TRUE(a->add(chunks_[i], kMeta, ChunkAssembler::Durability::at_flush));
  auto done = a->add(chunks_.back(), kMeta, ChunkAssembler::Durability::at_flush);
  ASSERT_TRUE(done) << done.problem().one_line();
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ(test::read_file((*done)->file), whole_);
  EXPECT_FALSE(a->has_unflushed());
  a.reset();
  a = open_assembler();
  ASSERT_EQ(a->completed().size(), 1u) << "the last chunk's progress and every line before it are in the log";
}

// A flush that fails puts the sequence back to what its files record; the chunks added
// again are written again, and the next flush records them. The failure: the log
// may not grow (RLIMIT_FSIZE at its size: the append gets EFBIG).
TEST_F(ChunkAssemblerTest, AFailedFlushRollsTheSequenceBackAndTheChunksAddedAgainComplete) {
  auto a = open_assembler();
  add_range(*a, chunks_, 0, 2);
  for (size_t i = 2; i < 6; ++i) ASSERT_TRUE(a->add(chunks_[i], kMeta, ChunkAssembler::Durability::at_flush));
  const auto log_size = fs::file_size(dir() / (kSeq + ".log"));
  struct rlimit before {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &before), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit capped = before;
  capped.rlim_cur = log_size;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &capped), 0);
  std::vector<std::string> rolled_back;
  auto flushed = a->flush(&rolled_back);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &before), 0);
  ::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(flushed) << "the log could not grow";
  EXPECT_EQ(flushed.problem().kind, ProblemKind::io_error);
  EXPECT_EQ(rolled_back, std::vector<std::string>{kSeq});
  ASSERT_EQ(a->held().size(), 1u);
  EXPECT_EQ(a->held()[0].chunks, 2u) << "back to what the log records";
  EXPECT_EQ(fs::file_size(dir() / (kSeq + ".part")), 2000u);
  EXPECT_FALSE(a->has_unflushed());
  for (size_t i = 2; i < 6; ++i) ASSERT_TRUE(a->add(chunks_[i], kMeta, ChunkAssembler::Durability::at_flush));
  ASSERT_TRUE(a->flush());
  auto done = add_range(*a, chunks_, 6, chunks_.size());
  ASSERT_TRUE(done);
  EXPECT_EQ(test::read_file(done->file), whole_);
}

TEST_F(ChunkAssemblerTest, ReopenAfterCompleteOffersItForDeliveryAndAfterReleaseSkipsLateChunks) {
  {
    auto a = open_assembler();
    ASSERT_TRUE(add_range(*a, chunks_, 0, chunks_.size()));
  }
  auto a = open_assembler();
  auto done = a->completed();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].message_id, "final-" + kSeq);
  EXPECT_EQ(done[0].metadata_json, kMeta);
  EXPECT_EQ(done[0].sha256, sha256_b64url(whole_));
  EXPECT_EQ(test::read_file(done[0].file), whole_);
  auto again = a->add(chunks_.back(), kMeta);  // re-read of the last chunk
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
  auto beyond = chunks_[5];  // a chunk past the verified end
  beyond.claims.index = 11;
  auto refused = a->add(beyond, kMeta);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.problem().detail.rfind("beyond the last chunk", 0), 0u) << refused.problem().detail;
  EXPECT_EQ(test::read_file(done[0].file), whole_);  // the verified message stays
  ASSERT_TRUE(a->release(kSeq));
  a.reset();
  a = open_assembler();
  EXPECT_EQ(a->open_sequences(), 0u);
  for (size_t i : {5, 10}) {  // at-least-once re-read after delivery: skipped, not a gap
    auto r = a->add(chunks_[i], kMeta);
    ASSERT_TRUE(r) << r.problem().one_line();
    EXPECT_FALSE(r->has_value());
  }
  EXPECT_FALSE(fs::exists(dir() / (kSeq + ".part")));
  // The tombstone goes after the timeout; then the seq is unknown again.
  EXPECT_TRUE(a->expire(std::chrono::system_clock::now() + 901s).empty());
  EXPECT_FALSE(fs::exists(dir() / (kSeq + ".done")));
}

TEST_F(ChunkAssemblerTest, AReleaseCutShortAfterItsTombstoneFinishesOnLoad) {
  {
    auto a = open_assembler();
    ASSERT_TRUE(add_range(*a, chunks_, 0, chunks_.size()));
  }
  test::write_file(dir() / (kSeq + ".done"), "");  // kill -9 inside release()
  auto a = open_assembler();
  EXPECT_EQ(a->open_sequences(), 0u);
  EXPECT_TRUE(a->completed().empty());
  EXPECT_FALSE(fs::exists(dir() / (kSeq + ".part")));
  EXPECT_FALSE(fs::exists(dir() / (kSeq + ".log")));
}

TEST_F(ChunkAssemblerTest, CorruptProgressDiscardsTheSequenceNotTheRun) {
  const std::vector<std::string> corruptions = {
      "C 3 3000\nX 4 5000\n",                      // unknown record
      "C 3 3000\nC 5 6000\n",                      // index skips
      "C 3 3000\nC 4 2000\n",                      // end goes backwards
      "C 3 3000\nC 4 99999999999999999999999\n",   // overflow
      "C 3 3000\nC 4 05000\n",                     // leading zero
      "C 3 3000\nC  4 5000\n",                     // two spaces
      "C 3 3000\nC 4 9000\n",                      // beyond the data
      "L 3 3000 short m\n",                        // bad hash field
      "L 3 3000 " + sha256_b64url("x") + " m\nC 4 5000\n",  // progress after the last
  };
  for (const auto& tail : corruptions) {
    SCOPED_TRACE(tail);
    {
      auto a = open_assembler();
      add_range(*a, chunks_, 0, 3);
      std::ofstream(dir() / (kSeq + ".log"), std::ios::binary | std::ios::app) << tail;
      std::ofstream(dir() / (kSeq + ".part"), std::ios::binary | std::ios::app) << pattern(2000, 2);
    }
    auto a = open_assembler();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->open_sequences(), 0u);
    EXPECT_FALSE(a->load_notes().empty());
    EXPECT_FALSE(fs::exists(dir() / (kSeq + ".log")));
  }
  // A header that lies about the metadata length, and a log with no header at all.
  for (const std::string& log : {std::string("xoev-chunks 1 500\n{}\nC 0 1000\n"), std::string("garbage\n"),
                                 std::string("xoev-chunks 1 2\n{}\n")}) {
    SCOPED_TRACE(log);
    test::write_file(dir() / (kSeq + ".log"), log);
    test::write_file(dir() / (kSeq + ".part"), pattern(1000, 1));
    auto a = open_assembler();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->open_sequences(), 0u);
  }
}

// Random damage to a log (flipped bytes, cuts, inserted bytes): open() never fails or
// crashes; the sequence is either discarded or continues to the identical message.
TEST_F(ChunkAssemblerTest, RandomlyDamagedLogsNeverBreakTheRun) {
  {
    auto a = open_assembler();
    add_range(*a, chunks_, 0, 6);
  }
  const std::string good_log = test::read_file(dir() / (kSeq + ".log"));
  const std::string good_part = test::read_file(dir() / (kSeq + ".part"));
  std::mt19937 rng(20261130);
  int completed = 0;
  for (int round = 0; round < 300; ++round) {
    std::string log = good_log;
    const int damage = static_cast<int>(rng() % 3);
    const size_t at = rng() % log.size();
    if (damage == 0) log[at] = static_cast<char>(rng() & 0xff);
    if (damage == 1) log.resize(at);
    if (damage == 2) log.insert(at, 1, " \n0123456789LCx"[rng() % 15]);
    test::write_file(dir() / (kSeq + ".log"), log);
    test::write_file(dir() / (kSeq + ".part"), good_part);
    auto a = open_assembler();
    ASSERT_TRUE(a) << "round " << round;
    if (a->open_sequences() == 0) continue;
    const auto held = a->held();
    ASSERT_EQ(held.size(), 1u);
    // A damaged offset that still parses may only end in a hash refusal, never in wrong bytes.
    for (size_t i = held[0].chunks; i < chunks_.size(); ++i) {
      auto r = a->add(chunks_[i], kMeta);
      if (!r) {
        EXPECT_EQ(r.problem().detail.rfind("hash: ", 0), 0u) << r.problem().detail;
        break;
      }
      if (r->has_value()) {
        ASSERT_TRUE(test::read_file((*r)->file) == whole_) << "round " << round << " log " << log;
        ++completed;
        ASSERT_TRUE(a->release(kSeq));
        fs::remove(dir() / (kSeq + ".done"));
      }
    }
  }
  EXPECT_GT(completed, 30);  // the damage spared the progress often enough to matter
}

TEST_F(ChunkAssemblerTest, DataShorterThanItsProgressIsDiscarded) {
  {
    auto a = open_assembler();
    add_range(*a, chunks_, 0, 3);
  }
  fs::resize_file(dir() / (kSeq + ".part"), 2500);
  auto a = open_assembler();
  EXPECT_EQ(a->open_sequences(), 0u);
  expect_refused(*a, chunks_[3], "gap: ");
}

}  // namespace
}  // namespace xoev
