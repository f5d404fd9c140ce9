"""Interop of xoevgate's chunk records (large_format.md) with an independent JOSE
implementation (Debian's python3-jwcrypto).

tests/support/chunk_seal_sample ($XOEV_CHUNK_SAMPLE) seals one chunked message and one
aborted sequence per recipient key type (P-256, X25519, RSA). This script verifies
each record's gateway signature (ES256 over the signed headers and the value's
SHA-256), decrypts it, checks the protected claims against the headers and the format,
and that the plaintexts, joined, have the size and SHA-256 the last chunk claims.
Exit status is non-zero when any check failed; the last line is "N passed, M failed".
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from jwcrypto import jwe, jwk, jws
from jwcrypto.common import base64url_decode, base64url_encode

XOEVGATE = os.environ.get("XOEVGATE", "build/xoevgate")
SAMPLE = os.environ.get("XOEV_CHUNK_SAMPLE") or os.path.join(os.path.dirname(XOEVGATE), "tests", "chunk_seal_sample")
SIGNED_HEADERS = ["xoev-message-id", "xoev-message-type", "xoev-standard", "xoev-sender", "xoev-recipient",
                  "xoev-destination", "xoev-accepted-at", "content-type", "traceparent"]
ROUTING_CLAIMS = {"id": "xoev-message-id", "type": "xoev-message-type", "sender": "xoev-sender",
                  "recipient": "xoev-recipient", "destination": "xoev-destination"}

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


def b64_sha256(data):
    return base64url_encode(hashlib.sha256(data).digest())


def open_record(record, gateway_key, recipient_key):
    """(protected header, plaintext) of one record, checked like a deliverer would."""
    headers = dict(record["headers"])
    assert len(headers) == len(record["headers"]), "a header appears twice"
    signature = jws.JWS()
    signature.deserialize(headers["xoev-signature"])
    signature.verify(gateway_key)  # raises on a bad signature
    assert signature.jose_header["typ"] == "xoev-envelope-signature"
    claims = json.loads(signature.payload)
    assert claims["sha256"] == b64_sha256(record["value"].encode()), "signature does not cover the value"
    for name in SIGNED_HEADERS:
        assert claims["headers"][name] == headers.get(name), f"signed header {name} differs"
    token = jwe.JWE()
    token.deserialize(record["value"])
    try:
        token.decrypt(recipient_key)
    except jwe.InvalidJWEData:
        # jwcrypto 1.1 reports an empty plaintext (an abort record) as "no recipient
        # matched" although its log shows the tag verified.
        if token.decryptlog != ["Success"] or token.plaintext != b"":
            raise
    protected = json.loads(token.objects["protected"])
    for claim, name in ROUTING_CLAIMS.items():
        assert protected["xoev"][claim] == headers[name], f"xoev.{claim} differs from {name}"
    return headers, protected, token.plaintext


def check_label(directory, label, gateway_key):
    recipient_text = open(os.path.join(directory, f"{label}.recipient.jwk")).read()
    recipient = jwk.JWK.from_json(recipient_text)
    kid = json.loads(recipient_text)["kid"]
    records = json.load(open(os.path.join(directory, f"{label}.records.json")))
    by_seq = {}
    for record in records:
        by_seq.setdefault(record["key"], []).append(record)
    check(f"{label}: two sequences", len(by_seq) == 2, str(list(by_seq)))
    for seq, sequence in by_seq.items():
        whole = b""
        for i, record in enumerate(sequence):
            name = f"{label} {seq[:12]} chunk {i}"
            try:
                headers, protected, plaintext = open_record(record, gateway_key, recipient)
            except Exception as e:  # noqa: BLE001 - any failure is a finding
                check(f"{name}: verifies and decrypts", False, repr(e))
                continue
            check(f"{name}: verifies and decrypts", True)
            chunk = protected["xoev"].get("chunk", {})
            last = i == len(sequence) - 1
            check(f"{name}: alg/enc/kid/cty", protected["enc"] == "A256GCM" and protected["kid"] == kid
                  and protected["cty"] == "application/xml"
                  and protected["alg"] == ("RSA-OAEP-256" if label == "rsa" else "ECDH-ES+A256KW"), str(protected))
            check(f"{name}: seq = key = xoev.id", chunk.get("seq") == seq == protected["xoev"]["id"]
                  == headers["xoev-message-id"], str(chunk))
            check(f"{name}: index and last", chunk.get("index") == i and chunk.get("last") is last, str(chunk))
            check(f"{name}: mirror headers", headers.get("xoev-chunk") == str(i)
                  and headers.get("xoev-chunk-last") == ("true" if last else None), str(headers))
            if not last:
                check(f"{name}: inner chunk has only seq/index/last", set(chunk) == {"seq", "index", "last"}, str(chunk))
                check(f"{name}: inner chunk not empty", len(plaintext) > 0)
            elif "abort" in chunk:
                check(f"{name}: abort record is empty and says why",
                      plaintext == b"" and chunk["abort"] == "sender disconnected"
                      and set(chunk) == {"seq", "index", "last", "abort"}, str(chunk))
            else:
                whole_after = whole + plaintext
                check(f"{name}: count", chunk.get("count") == len(sequence), str(chunk))
                check(f"{name}: size", chunk.get("size") == len(whole_after), str(chunk))
                check(f"{name}: sha256 of the joined plaintexts", chunk.get("sha256") == b64_sha256(whole_after))
                check(f"{name}: messageId", chunk.get("messageId") == f"xbau-final-{label}", str(chunk))
                try:
                    text = whole_after.decode("utf-8")
                    check(f"{name}: joined text is the whole document",
                          text.startswith("<?xml") and text.endswith("</xbau:antrag>"))
                except UnicodeDecodeError as e:
                    check(f"{name}: joined text is UTF-8", False, repr(e))
            whole += plaintext
        # A tampered chunk: one byte of the ciphertext flipped, jwcrypto refuses it too.
        parts = sequence[0]["value"].split(".")
        ciphertext = bytearray(base64url_decode(parts[3]))
        ciphertext[0] ^= 1
        parts[3] = base64url_encode(bytes(ciphertext))
        try:
            jwe.JWE().deserialize(".".join(parts), key=recipient)
            check(f"{label} {seq[:12]}: tampered chunk refused", False)
        except Exception:  # noqa: BLE001
            check(f"{label} {seq[:12]}: tampered chunk refused", True)


def main():
    if not os.path.exists(SAMPLE):
        print(f"FAIL chunk_seal_sample not found at {SAMPLE} (build the chunk_seal_sample target)")
        return 1
    with tempfile.TemporaryDirectory(prefix="xoev-chunk-interop-") as directory:
        run = subprocess.run([SAMPLE, directory], capture_output=True, text=True, timeout=300)
        check("chunk_seal_sample ran", run.returncode == 0, run.stderr)
        if run.returncode == 0:
            gateway_key = jwk.JWK.from_json(open(os.path.join(directory, "gateway.jwk")).read())
            for label in ("p256", "x25519", "rsa"):
                check_label(directory, label, gateway_key)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
