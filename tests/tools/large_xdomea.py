#!/usr/bin/python3
"""Writes a schema-valid xdomea 3.0.0 Aussonderung.Aussonderung.0503 of about SIZE_MB
megabytes: a normal head, then documents whose content travels inline as base64 in
each Dokument's AnwendungsspezifischeErweiterungXML (xs:any, processContents="lax":
xdomea 3.0 has no element of its own for file content). Streams to OUT, so any size
takes constant memory. Standard library only.

usage: large_xdomea.py SIZE_MB OUT [--document-kb KB] [--process-id UUID]
       [--reader-prefix P --reader-code C]
Deterministic for the same arguments (the content is a counter-seeded pseudo-random
stream), so a benchmark or test can compare bytes.
"""
import argparse
import base64
import hashlib
import sys
import uuid

NS = "urn:xoev-de:xdomea:schema:3.0.0"
CONTENT_NS = "urn:xoevgate:test:inline-content"


def authority(tag, prefix, code, name):
    return f"""    <xdomea:{tag}>
      <xdomea:Behoerdenkennung>
        <xdomea:Behoerdenschluessel listURI="" listVersionID="">
          <code>{code}</code>
          <name>{name}</name>
        </xdomea:Behoerdenschluessel>
        <xdomea:Praefix listURI="" listVersionID="">
          <code>{prefix}</code>
        </xdomea:Praefix>
      </xdomea:Behoerdenkennung>
    </xdomea:{tag}>
"""


def head(process_id, reader_prefix, reader_code):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<xdomea:Aussonderung.Aussonderung.0503 xmlns:xdomea="{NS}">
  <xdomea:Kopf>
    <xdomea:ProzessID>{process_id}</xdomea:ProzessID>
    <xdomea:Nachrichtentyp>
      <code>0503</code>
    </xdomea:Nachrichtentyp>
    <xdomea:Erstellungszeitpunkt>2026-11-30T12:00:00</xdomea:Erstellungszeitpunkt>
{authority("Absender", "sta", "behoerde-abgebend", "Abgebende Behörde")}{authority("Empfaenger", reader_prefix, reader_code, "Landesarchiv")}    <xdomea:SendendesSystem>
      <xdomea:InstanzID>{uuid.UUID(int=1)}</xdomea:InstanzID>
      <xdomea:Produktname>xoevgate large_xdomea.py</xdomea:Produktname>
    </xdomea:SendendesSystem>
    <xdomea:Importbestaetigung>1</xdomea:Importbestaetigung>
    <xdomea:RueckmeldungArchivkennung>1</xdomea:RueckmeldungArchivkennung>
    <xdomea:Empfangsbestaetigung>1</xdomea:Empfangsbestaetigung>
  </xdomea:Kopf>
"""


def content_lines(index, size):
    """base64 of `size` pseudo-random bytes, in 76-character lines."""
    seed = hashlib.sha256(f"document {index}".encode()).digest()
    block = 57 * 64  # 57 raw bytes make one 76-character line
    produced = 0
    counter = 0
    while produced < size:
        raw = bytearray()
        while len(raw) < block:
            raw += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            counter += 1
        raw = bytes(raw[:min(block, size - produced)])
        produced += len(raw)
        text = base64.b64encode(raw).decode()
        yield "\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + "\n"


def document(out, index, size):
    doc_id = uuid.UUID(bytes=hashlib.sha256(f"id {index}".encode()).digest()[:16], version=4)
    name = f"{doc_id}_dokument-{index:05d}.pdf"
    written = out.write(f"""  <xdomea:Schriftgutobjekt>
    <xdomea:Dokument>
      <xdomea:Identifikation>
        <xdomea:ID>{doc_id}</xdomea:ID>
      </xdomea:Identifikation>
      <xdomea:Version>
        <xdomea:Nummer>1</xdomea:Nummer>
        <xdomea:Format>
          <xdomea:Name listURI="urn:xoev-de:xdomea:codeliste:dateiformat" listVersionID="1.0">
            <code>044</code>
          </xdomea:Name>
          <xdomea:Version>1b</xdomea:Version>
          <xdomea:Primaerdokument>
            <xdomea:Dateiname>{name}</xdomea:Dateiname>
          </xdomea:Primaerdokument>
        </xdomea:Format>
      </xdomea:Version>
      <xdomea:AnwendungsspezifischeErweiterungXML>
        <inhalt:Datei xmlns:inhalt="{CONTENT_NS}" dateiname="{name}" kodierung="base64">
""")
    for lines in content_lines(index, size):
        written += out.write(lines)
    written += out.write("""        </inhalt:Datei>
      </xdomea:AnwendungsspezifischeErweiterungXML>
    </xdomea:Dokument>
  </xdomea:Schriftgutobjekt>
""")
    return written


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("size_mb", type=float)
    p.add_argument("out")
    p.add_argument("--document-kb", type=int, default=1024, help="raw bytes per document (default 1024 KiB)")
    p.add_argument("--process-id", default="6f1c2a4e-3b5d-4e8f-9a0b-1c2d3e4f5a6b")
    p.add_argument("--reader-prefix", default="psw")
    p.add_argument("--reader-code", default="01003110")
    a = p.parse_args()
    target = int(a.size_mb * 1024 * 1024)
    per_document = a.document_kb * 1024
    tail = "</xdomea:Aussonderung.Aussonderung.0503>\n"
    with open(a.out, "w", encoding="utf-8", newline="\n") as out:
        written = out.write(head(a.process_id, a.reader_prefix, a.reader_code))
        index = 0
        while written + len(tail) < target or index == 0:
            # The last document fills what is left (base64 makes 4 of 3, plus newlines).
            size = max(1, min(per_document, (target - written - len(tail) - 1200) * 57 // 77))
            written += document(out, index, size)
            index += 1
        out.write(tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
