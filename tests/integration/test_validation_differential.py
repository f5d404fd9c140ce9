#!/usr/bin/python3
"""Differential test: `xoevgate validate` against `xmllint --nonet --schema`.

Every sample of the shared test data (verdicts.tsv) and mutated copies of the valid
ones (a required element deleted, a UUID broken, a date malformed, a wrong root
namespace) must get the same valid/invalid verdict from both. xmllint validates
against the upstream XSDs in the test data, xoevgate against its shipped catalog
(it picks the schema itself), both resolving remote imports through
schemas/catalog.xml. Many files per process: the schemas compile once per call.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

XOEVGATE = os.environ.get("XOEVGATE", "build/xoevgate")
SOURCE = os.environ.get("XOEV_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TESTDATA = os.environ.get("XOEV_TESTDATA_DIR", os.path.join(SOURCE, "..", "shared", "testdata"))
CATALOG_XML = os.path.join(SOURCE, "schemas", "catalog.xml")
CATALOG_YAML = os.path.join(SOURCE, "schemas", "catalog.yaml")
MUTANTS_PER_SCHEMA = 6


def read_verdicts():
    rows = []
    with open(os.path.join(TESTDATA, "verdicts.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            file, schema, verdict = line.rstrip("\n").split("\t")
            rows.append((os.path.join(TESTDATA, file), os.path.join(TESTDATA, schema), verdict))
    return rows


def xmllint_verdicts(schema, files):
    """file -> True (valid) / False, by xmllint's own per-file summary line."""
    env = dict(os.environ, XML_CATALOG_FILES=CATALOG_XML)
    out = subprocess.run(["xmllint", "--nonet", "--noout", "--schema", schema, *files],
                         env=env, capture_output=True, text=True, errors="replace", timeout=300)
    text = out.stdout + out.stderr
    if "failed to compile" in text:
        raise SystemExit(f"xmllint cannot compile {schema}:\n{text[-2000:]}")
    valid = {line[: -len(" validates")] for line in text.splitlines() if line.endswith(" validates")}
    return {f: f in valid for f in files}


def xoevgate_verdicts(files):
    """file -> True / False from `xoevgate validate`; also checks the exit code and line format."""
    out = subprocess.run([XOEVGATE, "validate", "--catalog", CATALOG_YAML, *files],
                         capture_output=True, text=True, errors="replace", timeout=300)
    lines = out.stdout.splitlines()
    verdicts = {}
    problems = []
    for f in files:
        if any(line == f + ": valid" or line.startswith(f + ": valid (") for line in lines):
            verdicts[f] = True
        else:
            verdicts[f] = False
            # Every finding is FILE:LINE:COL: message.
            if not any(re.match(re.escape(f) + r":\d+:\d+: \S", line) for line in lines):
                problems.append(f"{f}: invalid but no FILE:LINE:COL: line in the output")
    expected_rc = 0 if all(verdicts.values()) else 1
    if out.returncode != expected_rc:
        problems.append(f"exit code {out.returncode}, expected {expected_rc}; stderr: {out.stderr[-500:]}")
    return verdicts, problems


# ---- mutations: text edits, so everything else stays byte-identical -------------------

REQUIRED = ["identifikation.nachricht", "Kopf", "IssueDate", "ExchangedDocument"]
UUID = re.compile(r">\s*([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\s*<")
DATE = re.compile(r">(\d{4})-(\d{2})-(\d{2})(T[0-9:.+Z-]*)?<")
ROOT_NS = re.compile(r'(<(?:[\w.-]+:)?[\w.-]+\s[^>]*?xmlns(?::[\w.-]+)?=")([^"]+)(")', re.S)


def delete_required(text):
    for name in REQUIRED:
        pattern = re.compile(r"<((?:[\w.-]+:)?)" + re.escape(name) + r"(\s[^>]*)?>.*?</\1" + re.escape(name) + r">", re.S)
        mutated, n = pattern.subn("", text, count=1)
        if n:
            return mutated
    return None


def break_uuid(text):
    m = UUID.search(text)
    if not m:
        return None
    return text[: m.start(1)] + m.group(1)[:-4] + "XYZ!" + text[m.end(1):]


def malform_date(text):
    m = DATE.search(text)
    if not m:
        return None
    return text[: m.start()] + f">{m.group(3)}.{m.group(2)}.{m.group(1)}<" + text[m.end():]


def wrong_namespace(text):
    """Change the namespace the root element is in (and its declaration)."""
    root = re.search(r"<((?:[\w.-]+:)?)([\w.-]+)[\s>]", re.sub(r"<\?.*?\?>|<!--.*?-->", lambda m: " " * len(m.group()), text, flags=re.S))
    if not root:
        return None
    prefix = root.group(1)[:-1]
    attr = 'xmlns:' + prefix if prefix else 'xmlns'
    decl = re.compile(re.escape(attr) + r'="([^"]+)"')
    m = decl.search(text, root.start())
    if not m:
        return None
    return text[: m.start(1)] + "urn:example:wrong-namespace" + text[m.end(1):]


MUTATIONS = {"required-element-deleted": delete_required, "uuid-broken": break_uuid,
             "date-malformed": malform_date, "wrong-namespace": wrong_namespace}


def main():
    started = time.monotonic()
    for tool in (XOEVGATE, shutil.which("xmllint")):
        if not tool or not os.path.exists(tool):
            print(f"missing tool: {tool}")
            return 2
    rows = read_verdicts()
    by_schema = defaultdict(list)
    for file, schema, _ in rows:
        by_schema[schema].append(file)

    tmp = tempfile.mkdtemp(prefix="xoev-diff-")
    passed = failed = 0
    failures = []
    mutation_kinds = defaultdict(int)
    mutants_invalid = defaultdict(int)
    mutant_kind = {}
    try:
        # Mutants of the valid samples, grouped with their schema.
        recorded = {file: verdict for file, _, verdict in rows}
        for schema, files in list(by_schema.items()):
            chosen = [f for f in files if recorded[f] == "valid"][:MUTANTS_PER_SCHEMA]
            for i, f in enumerate(chosen):
                with open(f, encoding="utf-8", errors="surrogateescape") as fh:
                    text = fh.read()
                for kind, mutate in MUTATIONS.items():
                    mutated = mutate(text)
                    if mutated is None or mutated == text:
                        continue
                    path = os.path.join(tmp, f"{len(os.listdir(tmp)):04d}-{kind}-{os.path.basename(f)}")
                    with open(path, "w", encoding="utf-8", errors="surrogateescape") as out:
                        out.write(mutated)
                    by_schema[schema].append(path)
                    mutation_kinds[kind] += 1
                    mutant_kind[path] = kind

        for schema, files in by_schema.items():
            reference = xmllint_verdicts(schema, files)
            ours, problems = xoevgate_verdicts(files)
            for p in problems:
                failed += 1
                failures.append(p)
            for f in files:
                if f in mutant_kind and not reference[f]:
                    mutants_invalid[mutant_kind[f]] += 1
                if reference[f] == ours[f]:
                    passed += 1
                else:
                    failed += 1
                    failures.append(f"{f}: xmllint says {'valid' if reference[f] else 'invalid'}, "
                                    f"xoevgate says {'valid' if ours[f] else 'invalid'}")
            # The recorded verdicts of the test data must still hold.
            for f in files:
                if f in recorded and (recorded[f] == "valid") != reference[f]:
                    failed += 1
                    failures.append(f"{f}: verdicts.tsv says {recorded[f]}, xmllint now disagrees")

        # Usage and I/O errors: exit 2.
        rc = subprocess.run([XOEVGATE, "validate", "--catalog", CATALOG_YAML, os.path.join(tmp, "does-not-exist.xml")],
                            capture_output=True).returncode
        if rc == 2:
            passed += 1
        else:
            failed += 1
            failures.append(f"missing file: exit code {rc}, expected 2")
        rc = subprocess.run([XOEVGATE, "validate"], capture_output=True).returncode
        if rc == 2:
            passed += 1
        else:
            failed += 1
            failures.append(f"no file: exit code {rc}, expected 2")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for f in failures:
        print("FAIL", f)
    print("mutants (invalid/all):",
          ", ".join(f"{k} {mutants_invalid[k]}/{v}" for k, v in sorted(mutation_kinds.items())))
    if passed < 250 or min(mutation_kinds.values(), default=0) < 5:
        failed += 1
        print("FAIL too few comparisons or mutants: the test data or the mutations no longer apply")
    print(f"{passed} passed, {failed} failed ({time.monotonic() - started:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
