#include "gateway/route/routing_version.h"

#include <array>
#include <string_view>

namespace xoev {
namespace {

// FNV-1a: fast enough for a million directory entries (tens of milliseconds), and the
// fingerprint only has to tell tables apart, not resist an attacker.
class Fnv1a {
 public:
  void add(std::string_view text) {
    for (unsigned char c : text) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
    // A separator no field contains: {"ab","c"} and {"a","bc"} differ.
    hash_ ^= 0x1f;
    hash_ *= 0x100000001b3ULL;
  }
  void add(long long n) { add(std::to_string(n)); }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::string routing_fingerprint(const Config& config, const RoutingDirectory& directory) {
  Fnv1a h;
  for (const auto& d : config.destinations) {
    h.add("destination");
    h.add(d.id);
    h.add(d.topic);
    h.add(d.adapter.type);
  }
  for (const auto& r : config.routes) {
    h.add("route");
    h.add(r.name);
    for (const auto* field : {&r.match.standard, &r.match.message_type, &r.match.reader, &r.match.author,
                              &r.match.region, &r.match.service})
      h.add(*field);
    h.add(r.destination);
    h.add(static_cast<long long>(r.priority));
  }
  h.add("region_prefixes");
  for (const auto& p : config.routing.region_prefixes) h.add(p);
  h.add("directory");
  for (const auto& e : directory.entries()) {
    h.add(e.reader);
    h.add(e.service);
    h.add(config.destinations.at(e.destination).id);
  }
  const std::uint64_t v = h.value();
  const auto folded = static_cast<std::uint32_t>(v ^ (v >> 32));
  static constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7',
                                              '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string out(8, '0');
  for (int i = 7, shift = 0; i >= 0; --i, shift += 4) out[static_cast<size_t>(i)] = kHex[(folded >> shift) & 0xf];
  return out;
}

std::string routing_version(std::uint64_t generation, const std::string& fingerprint) {
  return std::to_string(generation) + "-" + fingerprint;
}

}  // namespace xoev
