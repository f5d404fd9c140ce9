"""Interop of xoevgate's JWE and key files with an independent JOSE implementation
(Debian's python3-jwcrypto), both directions, for every algorithm xoevgate offers.

Runs the real binary ($XOEVGATE): keygen, encrypt, decrypt. JWS interop (ES256,
EdDSA) needs library calls and lives in tests/unit/crypto/jws_interop_test.cpp.
Exit status is non-zero when any check failed; the last line is "N passed, M failed".
"""
import json
import os
import stat
import subprocess
import sys
import tempfile

from jwcrypto import jwe, jwk
from jwcrypto.common import base64url_decode, base64url_encode

XOEVGATE = os.environ.get("XOEVGATE", "build/xoevgate")
PLAINTEXT = ('<?xml version="1.0" encoding="UTF-8"?>\n<nachricht>Vertraulich: Erika Mustermann, '
             'Hauptstraße 1, 65185 Wiesbaden – äöüß €</nachricht>\n').encode()
BIG = b"<x>" + os.urandom(512 * 1024).hex().encode() + b"</x>"

# (label, keygen args, alg, jwcrypto generate params)
CASES = [
    ("RSA-OAEP-256/3072", ["--alg", "RSA-OAEP-256", "--bits", "3072"], "RSA-OAEP-256", {"kty": "RSA", "size": 3072}),
    ("RSA-OAEP-256/4096", ["--alg", "RSA-OAEP-256"], "RSA-OAEP-256", {"kty": "RSA", "size": 4096}),
    ("ECDH-ES+A256KW/P-256", ["--alg", "ECDH-ES+A256KW", "--crv", "P-256"], "ECDH-ES+A256KW", {"kty": "EC", "crv": "P-256"}),
    ("ECDH-ES+A256KW/X25519", ["--alg", "ECDH-ES+A256KW", "--crv", "X25519"], "ECDH-ES+A256KW", {"kty": "OKP", "crv": "X25519"}),
]

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def run(args, data=None):
    return subprocess.run([XOEVGATE] + args, input=data, capture_output=True, timeout=120)


def jwcrypto_encrypt(pub, alg, kid, payload, extra=None):
    header = {"alg": alg, "enc": "A256GCM", "kid": kid}
    header.update(extra or {})
    token = jwe.JWE(payload, protected=json.dumps(header))
    token.add_recipient(pub)
    return token.serialize(compact=True)


def jwcrypto_decrypt(priv, compact):
    token = jwe.JWE()
    token.deserialize(compact, key=priv)
    return token.payload


def write_key(path, key, private):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(key.export(private_key=private))


def flip(compact, index, at):
    parts = compact.split(".")
    raw = bytearray(base64url_decode(parts[index]))
    raw[at] ^= 1
    parts[index] = base64url_encode(bytes(raw))
    return ".".join(parts)


def interop(tmp, label, keygen_args, alg, gen_params):
    kid = label.replace("/", "-").replace("+", "-").lower()
    # 1. keys made by xoevgate, loaded by jwcrypto
    r = run(["keygen", "--kid", kid, "--out", tmp] + keygen_args)
    check(f"{label}: xoevgate keygen", r.returncode == 0, r.stderr.decode())
    priv_file, pub_file = os.path.join(tmp, kid + ".jwk"), os.path.join(tmp, kid + ".pub.jwk")
    check(f"{label}: private key file mode 0600", stat.S_IMODE(os.stat(priv_file).st_mode) == 0o600)
    with open(priv_file) as f:
        priv = jwk.JWK.from_json(f.read())
    with open(pub_file) as f:
        pub = jwk.JWK.from_json(f.read())
    check(f"{label}: jwcrypto loads xoevgate keys", priv.has_private and not pub.has_private and priv.thumbprint() == pub.thumbprint())

    # 2. jwcrypto encrypts, xoevgate decrypts
    for name, payload in (("4 KB-ish", PLAINTEXT), ("1 MB", BIG)):
        compact = jwcrypto_encrypt(pub, alg, kid, payload, {"cty": "application/xml"})
        r = run(["decrypt", "--key", priv_file], compact.encode())
        check(f"{label}: jwcrypto → xoevgate decrypt ({name})", r.returncode == 0 and r.stdout == payload, r.stderr.decode())

    # 3. xoevgate encrypts, jwcrypto decrypts
    r = run(["encrypt", "--key", pub_file], PLAINTEXT)
    compact = r.stdout.decode().strip()
    ok = r.returncode == 0
    try:
        ok = ok and jwcrypto_decrypt(priv, compact) == PLAINTEXT
        header = json.loads(base64url_decode(compact.split(".")[0]))
        ok = ok and header["alg"] == alg and header["enc"] == "A256GCM" and header["kid"] == kid and "zip" not in header
    except Exception as e:  # noqa: BLE001 - any jwcrypto error is a failed check
        ok, r.stderr = False, str(e).encode()
    check(f"{label}: xoevgate encrypt → jwcrypto decrypt", ok, r.stderr.decode())
    check(f"{label}: ciphertext hides plaintext", b"Mustermann" not in r.stdout)

    # 4. tampering through the CLI: clear error, no plaintext on stdout
    for index, part in ((1, "encrypted key"), (2, "iv"), (3, "ciphertext"), (4, "tag")):
        r = run(["decrypt", "--key", priv_file], flip(compact, index, 0).encode())
        check(f"{label}: tampered {part} refused", r.returncode == 1 and r.stdout == b"" and b"JWE:" in r.stderr,
              r.stderr.decode())

    # 5. keys made by jwcrypto, used by xoevgate in both directions
    theirs = jwk.JWK.generate(kid=kid + "-jwcrypto", **gen_params)
    tpriv, tpub = os.path.join(tmp, kid + "-jwcrypto.jwk"), os.path.join(tmp, kid + "-jwcrypto.pub.jwk")
    write_key(tpriv, theirs, True)
    write_key(tpub, theirs, False)
    r = run(["encrypt", "--key", tpub], PLAINTEXT)
    ok = r.returncode == 0
    try:
        ok = ok and jwcrypto_decrypt(theirs, r.stdout.decode().strip()) == PLAINTEXT
    except Exception as e:  # noqa: BLE001
        ok, r.stderr = False, str(e).encode()
    check(f"{label}: xoevgate encrypts to a jwcrypto key", ok, r.stderr.decode())
    compact = jwcrypto_encrypt(theirs, alg, kid + "-jwcrypto", PLAINTEXT)
    r = run(["decrypt", "--key", tpriv], compact.encode())
    check(f"{label}: xoevgate decrypts with a jwcrypto key", r.returncode == 0 and r.stdout == PLAINTEXT, r.stderr.decode())

    # 6. rotation: two keys, the JWE's kid picks one
    r = run(["decrypt", "--key", tpriv, "--key", priv_file], jwcrypto_encrypt(pub, alg, kid, PLAINTEXT).encode())
    check(f"{label}: decrypt by kid with two keys", r.returncode == 0 and r.stdout == PLAINTEXT, r.stderr.decode())
    return priv, pub, priv_file


def refusals(tmp, rsa_priv, rsa_pub, rsa_file, ec_pub, ec_file, ec_kid):
    # RSA-OAEP (SHA-1) and compression are valid JOSE but outside the allow-list.
    compact = jwcrypto_encrypt(rsa_pub, "RSA-OAEP", json.loads(rsa_pub.export_public())["kid"], PLAINTEXT)
    r = run(["decrypt", "--key", rsa_file], compact.encode())
    check("RSA-OAEP (SHA-1) refused", r.returncode == 1 and b'alg "RSA-OAEP" is not allowed' in r.stderr and r.stdout == b"",
          r.stderr.decode())
    compact = jwcrypto_encrypt(ec_pub, "ECDH-ES+A256KW", ec_kid, PLAINTEXT, {"zip": "DEF"})
    r = run(["decrypt", "--key", ec_file], compact.encode())
    check("zip refused", r.returncode == 1 and b"zip" in r.stderr and r.stdout == b"", r.stderr.decode())
    compact = jwcrypto_encrypt(ec_pub, "ECDH-ES", ec_kid, PLAINTEXT)
    r = run(["decrypt", "--key", ec_file], compact.encode())
    check("direct ECDH-ES refused", r.returncode == 1 and b"not allowed" in r.stderr, r.stderr.decode())
    # A private key the group may read is refused with a clear message.
    os.chmod(ec_file, 0o640)
    r = run(["decrypt", "--key", ec_file], b"x.y.z.a.b")
    check("group-readable private key refused", r.returncode == 2 and b"chmod 600" in r.stderr, r.stderr.decode())
    os.chmod(ec_file, 0o600)
    r = run(["decrypt", "--key", ec_file], b"not-a-jwe")
    check("garbage input: one clear line", r.returncode == 1 and r.stderr.count(b"\n") == 1, r.stderr.decode())


def main():
    with tempfile.TemporaryDirectory(prefix="xoev-crypto-interop-") as tmp:
        keys = {}
        for label, args, alg, gen in CASES:
            try:
                keys[label] = interop(tmp, label, args, alg, gen)
            except Exception as e:  # noqa: BLE001 - report and go on with the next algorithm
                check(f"{label}: no exception", False, repr(e))
        if "RSA-OAEP-256/3072" in keys and "ECDH-ES+A256KW/P-256" in keys:
            rsa_priv, rsa_pub, rsa_file = keys["RSA-OAEP-256/3072"]
            _, ec_pub, ec_file = keys["ECDH-ES+A256KW/P-256"]
            refusals(tmp, rsa_priv, rsa_pub, rsa_file, ec_pub, ec_file, "ecdh-es-a256kw-p-256")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
