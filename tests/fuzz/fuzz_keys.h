// Fixed test keys of the JOSE fuzzers (made for this purpose, protect nothing): with
// fixed keys the seeds (fuzz_make_seeds) reach past the key lookup into the crypto.
#pragma once

#include <array>
#include <cstdlib>
#include <string_view>

#include "gateway/crypto/jwk.h"
#include "gateway/crypto/key_ring.h"

namespace xoev::fuzz {

// kids: fuzz-ec (P-256), fuzz-x25519, fuzz-rsa (RSA-2048), fuzz-ed (Ed25519); all private.
inline constexpr std::array<std::string_view, 4> kFuzzKeys = {
    R"({"crv":"P-256","d":"nxoJinZeZbjKtiRMWkCbY6uAc4RFNF7SEdX4wtGdUN8","kid":"fuzz-ec","kty":"EC","x":"uvExb6S5nq7eP1LLqu2IX4gQUa4TLRXPQbUVoyuoCSI","y":"fnqh0Q3gkH2wp1gbkxE0oBEyWjvcHJFawKpTj4AUw3g"})",
    R"({"crv":"X25519","d":"OEQHM_VKIdMADiZsTPYJQZL_aWWil9-8a8SF8sKzhlg","kid":"fuzz-x25519","kty":"OKP","x":"BNaVVYSwrIpYSbMv6Vgcjj15LErUkodEoDZp1rROk3U"})",
    R"({"d":"BAN3jh8W4ptK69PIdi4TVP1he2LN5TP14Yn6pqFl_hSQRY1wwS6hBs3n374QnTftRj3URnAgIvP8ij9yg-s_6O29OesOype8YR9OiFQt5fjcKKVoh7XGXCbBg-RRPCxqmQkpl69gg8ZvAb4YkRPVnDD2UMd0_Gihv0--OBEyotMgdyDe7U_65QSAFkCMdppYF0f8puCiWPtC8Qpaukuzlg-1-0IONIoaDZHi-kf6fe4LnZPOc0aQqGx70BXHs2yQFOJez67bQdLef7y394F9NqERwDmcQV55-Ifo0Bk3DyDeAG_foFxh0T0fIii32wcrp5Bjm9oj_UXLdDy2Sf8VgQ","dp":"D3CW878HWEu52ETKg-FMelyuYH_MjrFOsgiAjO9n5nwu8b1nl--RD22i5LQ92JtGqLi4spodoic2M7KTmEd652Q08JkbKGYJzcYIZG-ycaa1CGh8b4klZMNRQvMHninn32317E2PbwF2mqwUCbF6BVWf1uXzmNBT0ZFDb_C_RRE","dq":"Bby7yeI_rf_GyT7In7yyS71pk8KEuC8iWeEB79Sm9ad3ssIEJWhVt7Ky4pA3O6GpAj5nW5at3ZKTk-J79Q-qZymhtyfQiGLpH0fhDYq1YmRdDsTdALLoslJm3eH4WN-DuiPoMzXHHKxFpV-1CCncEA_cBccKqaRSuwoxPez2T3E","e":"AQAB","kid":"fuzz-rsa","kty":"RSA","n":"qUN4hOIvEIC-8u_nSJKI6BDhfEIbBJa_V0mA7JG6uZWjb_khtXAOEu76q6Uf1zwLjyw8Agr3nIUF-BcwU_oKko6v4bw-3yO-PzT8-Yce_s6ZyD9z1Dr8sXCf5ppg8hrQdzq_5HvqHXqxSP67qb6MXARd22Qe8sIVvF_MkjCMW-Pda3SqXfORMzjeBl2NHLNhp83fQ0njs5dtnTYtdt_vggxdRjsNsWcnl6tGT1AOK6GNwplnjoDMw6CWQyvY67G0nRcWHryqBkSVQp9o1qt161FUlcbrAbyDaLpVZiURkNyzkaNT3mpyiwY_ioV1oN3HFFUIC5_ztjaLWzHLrZjEZQ","p":"5gZO0M198_UvFFjZ69qLEQCRFzrljMQU6W6L3j6M016IozL_jeOK2mNqdWMjX64ExZglcDBulhN1MxUVaEo1lxSts2sBqKkgZ1hKoiL333pOvp50vZM6tqhNLqGVG2HT90LUE_0w-ZexGGxmhsBgTUMqzcP4tkMxol5zaaJ-J_E","q":"vGClBF2SPoT5djKEK8bNRDHutRxHJOtKhMqfJUUadctU70o_ipQm_oOqfIzMrYRxXc70dLfZjio3NZ6BOWkaA5h7OisN4KJPSX278yTM1qtHtl7hazYL9RxebuvD09ytnXO7JCpdr2A7uNzo5bGJOXLtvbMaQILeklSveFSt97U","qi":"3bpxbcXYhrBF_Gp1vpd1JgTCKPHAnoOG7XKF4bP9IfH3NV0Nrhui4kYRouYHqvDIhtnlgPFHVYKycX6aL5GvTrOk8NxbjarfQ-gD-hGBaxB6AnmfMhzYUnQRm0IW6KMzoUUybtPWdTWgwyU4KO6Rrwe2mHH4_P4r1VDIS0Ve9nU"})",
    R"({"crv":"Ed25519","d":"Ftj1U4v3I2LhLxdrF9_UkFyjjyIJ13_OJIppQbFXyhI","kid":"fuzz-ed","kty":"OKP","x":"sKshIcNoVfAtS30tGbXuFp05muo2EkkVBNO9q-kngsg"})",
};

inline crypto::Jwk fuzz_key(std::string_view kid) {
  for (const auto text : kFuzzKeys) {
    auto key = crypto::Jwk::parse(text);
    if (!key) std::abort();
    if (key->kid() == kid) return std::move(key).value();
  }
  std::abort();
}

// Decryption ring: the three encryption keys (private).
inline const crypto::KeyRing& fuzz_decryption_ring() {
  static const crypto::KeyRing ring = [] {
    crypto::KeyRing keys;
    for (const auto kid : {"fuzz-ec", "fuzz-x25519", "fuzz-rsa"}) {
      if (!keys.add(fuzz_key(kid)).ok()) std::abort();
    }
    return keys;
  }();
  return ring;
}

// Verification ring: the public halves of the two signature keys.
inline const crypto::KeyRing& fuzz_trusted_ring() {
  static const crypto::KeyRing ring = [] {
    crypto::KeyRing keys;
    for (const auto kid : {"fuzz-ec", "fuzz-ed"}) {
      if (!keys.add(fuzz_key(kid).public_key()).ok()) std::abort();
    }
    return keys;
  }();
  return ring;
}

}  // namespace xoev::fuzz
