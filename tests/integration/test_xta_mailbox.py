"""Issue 5, xta adapter end to end: `xoevgate serve` with an in-process xta destination.

A Fachverfahren polls the mailbox over SOAP 1.2 the way it polls an XTA 2 server:
getStatusList → getMessage (exact bytes, base64) → close → the list is empty. Every
request and answer is checked with xmllint against the schemas next to XTA.wsdl (the
WSDL's own <types>), the mailbox survives a restart of the gateway, and a closed
message is not offered again.

Issue 10: a 3 MB xdomea Aussonderung (chunked on the topic, reassembled by the
deliverer) reaches the mailbox too and is fetched as MTOM: Python's own MIME parser
splits the answer, the attachment is the exact bytes, and the envelope put back
together (XOP: the Include replaced by the base64) passes xmllint.
"""
import base64
import email.parser
import email.policy
import http.client
import subprocess
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import (run_with_processes, XBETEILIGUNG, TESTDATA, free_port, post_xml, start_dev_kafka, wait_ready,
                     wait_until, with_new_uuid, write_config)
from test_large_messages import STANDARDS, make_message, post_file

SCHEMA_DIR = TESTDATA / "xta/erzwingungshaft-eai/src/main/resources/META-INF/schema"
NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "osci": "http://www.osci.eu/ws/2008/05/transport",
    "oscimeta": "http://www.osci.eu/ws/2014/10/transport",
    "xta": "http://xoev.de/transport/xta/211",
}
ACTION = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/"


def types_schema(work):
    """The WSDL's <types> schema as a file of its own, with absolute schema locations."""
    wsdl = ET.parse(SCHEMA_DIR / "XTA.wsdl").getroot()
    schema = wsdl.find("{http://schemas.xmlsoap.org/wsdl/}types/{http://www.w3.org/2001/XMLSchema}schema")
    for child in schema:
        if "schemaLocation" in child.attrib:
            child.set("schemaLocation", (SCHEMA_DIR / child.get("schemaLocation")).as_uri())
    path = Path(work) / "xta-types.xsd"
    ET.ElementTree(schema).write(path, xml_declaration=True, encoding="UTF-8")
    return path


class Validator:
    def __init__(self, work):
        self.work = Path(work)
        self.schema = types_schema(work)
        self.count = 0

    def errors(self, xml_bytes):
        """xmllint on the envelope, then strictly on the Body's first child on its own."""
        self.count += 1
        parts = [xml_bytes]
        body = ET.fromstring(xml_bytes).find("env:Body", NS)
        if body is not None and len(body) and body[0].tag != f"{{{NS['env']}}}Fault":
            parts.append(ET.tostring(body[0]))
        problems = []
        for i, part in enumerate(parts):
            f = self.work / f"soap-{self.count}-{i}.xml"
            f.write_bytes(part)
            r = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", str(self.schema), str(f)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                problems.append(r.stderr.strip())
        return problems


def envelope(action, body):
    return (f'<env:Envelope xmlns:env="{NS["env"]}" xmlns:wsa="{NS["wsa"]}" xmlns:osci="{NS["osci"]}" '
            f'xmlns:oscimeta="{NS["oscimeta"]}"><env:Header><wsa:Action>{ACTION}{action}</wsa:Action>'
            f'<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>'
            f'<oscimeta:Author><oscimeta:Identifier type="xoev">xyz:fachverfahren</oscimeta:Identifier></oscimeta:Author>'
            f'</env:Header><env:Body>{body}</env:Body></env:Envelope>').encode()


def soap(port, payload):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/MsgBoxPort", body=payload,
                     headers={"Content-Type": "application/soap+xml; charset=utf-8"})
        r = conn.getresponse()
        return r.status, r.read(), r.getheader("Content-Type", "")
    finally:
        conn.close()


def exchange(port, check, validator, action, body, what, status=200):
    request = envelope(action, body)
    check(not validator.errors(request), f"{what}: request validates against the XTA schemas")
    got, answer, ctype = soap(port, request)
    check(got == status and ctype.startswith("application/soap+xml"), f"{what}: HTTP {got} {ctype}, want {status}")
    problems = validator.errors(answer)
    check(not problems, f"{what}: answer validates against the XTA schemas {problems}")
    return ET.fromstring(answer)


def listed(port, check, validator):
    root = exchange(port, check, validator, "MsgBoxStatusListRequest", "<osci:MsgBoxStatusListRequest/>",
                    "getStatusList")
    return [e.text for e in root.findall("env:Body/osci:MsgStatusList/oscimeta:MessageMetaData/"
                                         "oscimeta:MsgIdentification/wsa:MessageID", NS)]


def main():
    run_with_processes("xoev-xta-", run)


def run(work, procs, check):
    _, bootstrap = start_dev_kafka(procs)
    port, soap_port = free_port(), free_port()
    cfg = write_config(
        work, bootstrap, f"127.0.0.1:{port}",
        destinations=[("fachverfahren", f"      type: xta\n      directory: mailbox\n"
                                        f"      listen: 127.0.0.1:{soap_port}\n      in_process: true\n"
                                        "      state_directory: state\n")],
        routes=[("xbeteiligung", {"standard": "XBeteiligung"}, "fachverfahren"),
                ("aussonderung", {"standard": "xdomea"}, "fachverfahren")],
        standards=STANDARDS)
    gateway = procs.start("gateway", "serve", "--config", str(cfg))
    if not check(wait_ready(port), "gateway becomes ready"):
        return
    validator = Validator(work)
    check(not listed(soap_port, check, validator), "the new mailbox is empty")

    sent = {}
    for path in XBETEILIGUNG[:3]:
        raw = path.read_bytes()
        status, body, _ = post_xml(port, raw)
        if not check(status in (200, 202) and isinstance(body, dict), f"{path.name} accepted ({status} {body})"):
            continue
        if status == 202:  # samples share ids: only a first submission is delivered
            sent[body["messageId"]] = raw
        fresh, new_id = with_new_uuid(raw, body["messageId"])
        status, body, _ = post_xml(port, fresh)
        if check(status == 202, f"{path.name} with a new id: 202 ({status} {body})"):
            sent[new_id] = fresh
    if not check(sent, "some messages were accepted"):
        return
    check(wait_until(lambda: set(sent) <= set(listed(soap_port, check, validator)), 90, "messages in the mailbox"),
          "every accepted message shows up in getStatusList")

    # The Fachverfahren fetches each message (the exact bytes) and acknowledges it.
    for message_id, raw in sent.items():
        root = exchange(soap_port, check, validator, "MsgBoxFetchRequest",
                        f"<osci:MsgBoxFetchRequest><osci:MsgSelector><wsa:MessageID>{message_id}</wsa:MessageID>"
                        f"</osci:MsgSelector></osci:MsgBoxFetchRequest>", f"getMessage {message_id}")
        payload = root.find("env:Body/xta:GenericContentContainer/xta:ContentContainer/xta:Message", NS)
        check(payload is not None and base64.b64decode(payload.text or "") == raw,
              f"getMessage {message_id}: the exact submitted bytes")
        meta_id = root.find("env:Header/oscimeta:MessageMetaData/oscimeta:MsgIdentification/wsa:MessageID", NS)
        check(meta_id is not None and meta_id.text == message_id, "MessageMetaData names the message")
        exchange(soap_port, check, validator, "MsgBoxCloseRequest",
                 f'<osci:MsgBoxCloseRequest MsgBoxRequestID="urn:uuid:{uuid.uuid4()}">'
                 f"<osci:LastMsgReceived>{message_id}</osci:LastMsgReceived></osci:MsgBoxCloseRequest>",
                 f"close {message_id}")
    check(not listed(soap_port, check, validator), "after close the status list is empty")

    fault = exchange(soap_port, check, validator, "MsgBoxFetchRequest",
                     "<osci:MsgBoxFetchRequest><osci:MsgSelector><wsa:MessageID>urn:uuid:nowhere</wsa:MessageID>"
                     "</osci:MsgSelector></osci:MsgBoxFetchRequest>", "getMessage of an unknown id", status=400)
    check(fault.find("env:Body/env:Fault/env:Detail/xta:InvalidMessageIDException", NS) is not None,
          "an unknown id is an InvalidMessageIDException fault")

    large_id = large_message_as_mtom(work, port, soap_port, check, validator)

    # One more message stays pending across a restart of the gateway; the closed ones stay closed.
    raw = XBETEILIGUNG[0].read_bytes()
    fresh, pending_id = with_new_uuid(raw, next(i for i, b in sent.items() if b == raw))
    status, body, _ = post_xml(port, fresh)
    check(status == 202, f"one more message accepted ({status})")
    check(wait_until(lambda: pending_id in listed(soap_port, check, validator), 90, "the pending message"),
          "the new message is pending")
    procs.stop(gateway)
    procs.start("gateway-2", "serve", "--config", str(cfg))
    if not check(wait_ready(port), "gateway restarts"):
        return
    after = []
    check(wait_until(lambda: after.append(listed(soap_port, check, validator)) or after[-1] == [pending_id], 30,
                     "the mailbox after the restart"),
          f"after a restart exactly the pending message is listed ({after[-1] if after else None})")
    closed = sorted(p.name for p in (Path(work) / "mailbox" / "closed").iterdir())
    want = sorted(f"{i}.msg" for i in [*sent, large_id])
    check(closed == want, f"closed messages are kept in closed/ ({closed})")


def large_message_as_mtom(work, port, soap_port, check, validator):
    path, message_id = make_message(work, 3)
    raw = path.read_bytes()
    status, body, _ = post_file(port, path)
    if not check(status == 202, f"3 MB xdomea accepted ({status} {body})"):
        return None
    check(wait_until(lambda: message_id in listed(soap_port, check, validator), 90, "the large message"),
          "the large message shows up in getStatusList")
    request = envelope("MsgBoxFetchRequest", f"<osci:MsgBoxFetchRequest><osci:MsgSelector><wsa:MessageID>{message_id}"
                                             f"</wsa:MessageID></osci:MsgSelector></osci:MsgBoxFetchRequest>")
    got, answer, ctype = soap(soap_port, request)
    if not check(got == 200 and ctype.startswith("multipart/related") and 'type="application/xop+xml"' in ctype,
                 f"getMessage of 3 MB: MTOM ({got} {ctype})"):
        return None
    mime = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + answer)
    parts = list(mime.iter_parts())
    if not check(len(parts) == 2, f"two MIME parts ({len(parts)})"):
        return None
    root_xml, attachment = parts[0].get_payload(decode=True), parts[1].get_payload(decode=True)
    check(parts[0].get_content_type() == "application/xop+xml" and
          parts[0]["Content-ID"] == mime.get_param("start"), "the root part is the start part, xop+xml")
    check(attachment == raw, f"the attachment is the exact submitted bytes ({len(attachment)} of {len(raw)})")
    root = ET.fromstring(root_xml)
    payload = root.find("env:Body/xta:GenericContentContainer/xta:ContentContainer/xta:Message", NS)
    include = payload.find("{http://www.w3.org/2004/08/xop/include}Include") if payload is not None else None
    if not check(include is not None and include.get("href") == "cid:" + parts[1]["Content-ID"].strip("<>"),
                 "xta:Message holds an xop:Include naming the second part"):
        return None
    payload.remove(include)
    payload.text = base64.b64encode(attachment).decode()
    problems = validator.errors(ET.tostring(root))
    check(not problems, f"the reconstituted getMessage answer validates against the XTA schemas {problems}")
    exchange(soap_port, check, validator, "MsgBoxCloseRequest",
             f'<osci:MsgBoxCloseRequest MsgBoxRequestID="urn:uuid:{uuid.uuid4()}">'
             f"<osci:LastMsgReceived>{message_id}</osci:LastMsgReceived></osci:MsgBoxCloseRequest>", "close the large one")
    return message_id


if __name__ == "__main__":
    main()
