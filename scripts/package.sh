#!/usr/bin/env bash
# Build the Lambda artefact of a Chalice stage and check it against Lambda's size limits.
#
#   scripts/package.sh                  # stage prod into build/package
#   STAGE=prod OUT=/tmp/pkg scripts/package.sh
#
# Steps:
#   1. `make sync-questionnaires` (Chalice deploys only app.py + chalicelib/).
#   2. `chalice package --pkg-format cloudformation --stage $STAGE $OUT`: Chalice's
#      "cloudformation" format is a SAM template (sam.json, Transform
#      AWS::Serverless-2016-10-31) next to deployment.zip (+ layer-deployment.zip with
#      "automatic_layer"). It is deployed with `aws cloudformation package` (uploads the zips to
#      S3) + `aws cloudformation deploy`; see docs/DEPLOY.md. Chosen over terraform (the other
#      format): no extra tool, and cfn-lint checks it like infra/*.yaml. The API key source
#      AUTHORIZER and a gateway response for every type (problem+json documents for what API
#      Gateway answers itself: unknown paths, missing or denied keys, throttling;
#      chalicelib/gateway.py) are merged into the template (--merge-template).
#   3. Rewrite the zips: drop test suites, typing stubs and C/Cython sources of third-party
#      packages (never app.py, chalicelib/ or chalice/; test modules that library code imports
#      stay). numpy + scipy zip to ~54 MiB untouched, over the 50 MiB direct-upload limit; ~6 MB
#      of that is tests. Add unchecked-hash .pyc files for what every cold start imports.
#   4. Print zipped and unzipped sizes and FAIL (exit 1) when a zip is over 50 MiB, when
#      function + layers unzip to more than 250 MiB, when chalice printed "Could not install
#      dependencies", or when a pinned requirement is missing from the artefact (a cached
#      .chalice/deployments zip built with a failed install would not print the warning again).
#
# Writes $OUT/ (sam.json + zips), $OUT.log (chalice's output), $OUT.sizes.json (the figures),
# $OUT.merge.json (what is merged into Chalice's template: the API key source, the gateway
# responses).
# Environment: STAGE (prod), OUT (build/package), BIN (.venv/bin), API_KEY_SOURCE (AUTHORIZER),
# TABLE_STACK (smm-benchmark-$STAGE-table: the stack whose StreamArn export is the event source),
# PYC (1: ship bytecode), S3_ONLY (0: a zip over 50 MiB fails; 1: it only warns, for artefacts
# deployed through S3 alone), AWS_DEFAULT_REGION (eu-central-1; only for ARNs in the template).
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE="${STAGE:-prod}"
OUT="${OUT:-build/package}"
OUT="${OUT%/}"
BIN="${BIN:-.venv/bin}"
# `chalice package` needs a region to build ARNs and service principals; it is not deployed.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-eu-central-1}}"

fail() {
	echo "package: FAIL: $*" >&2
	exit 1
}

# autogen_policy is false: Chalice reads the stage's IAM policy from .chalice/policy-<stage>.json.
policy_file="$("$BIN/python" - "$STAGE" <<'PY'
import json, sys
cfg = json.load(open(".chalice/config.json"))
stage = cfg.get("stages", {}).get(sys.argv[1], {})
if not stage.get("autogen_policy", cfg.get("autogen_policy", True)):
    print(".chalice/" + stage.get("iam_policy_file", cfg.get("iam_policy_file", f"policy-{sys.argv[1]}.json")))
PY
)"
if [[ -n "$policy_file" && ! -f "$policy_file" ]]; then
	fail "$policy_file is missing (autogen_policy is false for stage $STAGE); see infra/README.md"
fi

make --no-print-directory sync-questionnaires

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
LOG="$OUT.log"
# Partner routes are api_key_required and the authorizer names the usage-plan key
# (usageIdentifierKey), which API Gateway honours only with the API key source AUTHORIZER.
# Chalice cannot set it, so it is merged into the generated OpenAPI body, with the gateway
# responses (x-amazon-apigateway-gateway-responses) that make API Gateway's own refusals
# problem documents.
MERGE="$OUT.merge.json"
# The stream aggregator's failure handling (ReportBatchItemFailures, bisection, 5 retries, an
# SQS on-failure destination, a filter on assessment items, the IteratorAge alarm) and its
# stream ARN (imported from the table stack, TABLE_STACK) are merged the same way
# (chalicelib/storage/dynamodb/deploy.py).
"$BIN/python" - "${API_KEY_SOURCE:-AUTHORIZER}" "${TABLE_STACK:-smm-benchmark-$STAGE-table}" >"$MERGE" <<'PY'
import json, sys

from chalicelib.gateway import merge_template
from chalicelib.storage.dynamodb.deploy import stream_merge_template


def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


json.dump(merge(merge_template(sys.argv[1]), stream_merge_template(sys.argv[2])), sys.stdout, indent=1)
PY
cmd=("$BIN/chalice" package --pkg-format cloudformation --stage "$STAGE" --merge-template "$MERGE" "$OUT")
echo "package: ${cmd[*]}"
if ! "${cmd[@]}" 2>&1 | tee "$LOG"; then
	fail "chalice package exited non-zero (output in $LOG)"
fi
if grep -q "Could not install dependencies" "$LOG"; then
	fail "chalice could not install every dependency as a Lambda-compatible wheel (see $LOG)"
fi

"$BIN/python" - "$OUT" <<'PY'
"""Slim the zips in place, then measure and check them against Lambda's limits."""

import importlib.util
import json
import marshal
import os
import re
import sys
import zipfile

out = sys.argv[1]
MiB = 1024 * 1024
ZIP_LIMIT = 50 * MiB  # per zip uploaded through the Lambda API (CreateFunction, PublishLayerVersion)
UNZIPPED_LIMIT = 250 * MiB  # function + all its layers, unzipped
OWN = ("app.py", "chalicelib/", "chalice/")  # our code and Chalice's runtime: never slimmed
DROP_SUFFIXES = (".pyi", ".pyx", ".pxd", ".pxi", ".c", ".cc", ".cpp", ".h", ".hpp")
# Bytecode for what every cold start imports (our code, Chalice's runtime, pydantic, PyYAML and
# their dependencies); not for numpy/scipy (consultant paths only, ~6 MB zipped of .pyc).
PYC_FOR = ("app.py", "chalicelib/", "chalice/", "pydantic/", "pydantic_core/", "yaml/",
           "_yaml/", "typing_extensions.py", "annotated_types/", "typing_inspection/")
PYC = os.environ.get("PYC", "1") != "0"
# The 50 MiB limit binds direct uploads (chalice deploy, aws lambda update-function-code
# --zip-file, publish-layer-version --zip-file). Code that reaches Lambda through S3 (the
# CloudFormation path of docs/DEPLOY.md) is bound only by 250 MiB unzipped: S3_ONLY=1 reports an
# oversized zip instead of failing.
S3_ONLY = os.environ.get("S3_ONLY", "0") == "1"
TAG = sys.implementation.cache_tag  # cpython-311: must be the Lambda runtime's Python


def site_path(name: str) -> str:
    """The path relative to site-packages (layers keep packages under python/lib/...)."""
    m = re.match(r"python/lib/python3\.\d+/site-packages/(.*)", name)
    return m.group(1) if m else name


IMPORTED_TESTS = re.compile(rb"^\s*(?:from|import)\s+([A-Za-z_][\w.]*\.tests(?:\.[\w.]+)?)", re.M)


def imported_test_modules(z: zipfile.ZipFile) -> set[str]:
    """Files under a tests/ folder that library code imports, so they must stay (numpy.testing
    imports numpy._core.tests._natype at import time)."""
    keep = set()
    for info in z.infolist():
        rel = site_path(info.filename)
        if rel.endswith(".py") and "tests" not in rel.split("/")[:-1]:
            for module in IMPORTED_TESTS.findall(z.read(info)):
                parts = module.decode().split(".")
                cut = parts.index("tests")
                for i in range(cut + 1, len(parts) + 1):
                    base = "/".join(parts[:i])
                    keep.update({base + ".py", base + "/__init__.py"})
    return keep


def droppable(name: str, keep: set[str]) -> bool:
    rel = site_path(name)
    if rel.startswith(OWN) or name.endswith("/") or rel in keep:
        return False
    parts = rel.split("/")
    return "tests" in parts[:-1] or rel.endswith(DROP_SUFFIXES)


def compilable(name: str) -> bool:
    return name.endswith(".py") and site_path(name).startswith(PYC_FOR)


def pyc(source: bytes, runtime_path: str) -> bytes:
    """An unchecked hash-based .pyc (PEP 552): Lambda's /var/task and /opt are read-only, so
    without shipped bytecode every module is compiled from source on every cold start. The
    artefact is immutable, so the source check is skipped."""
    code = compile(source, runtime_path, "exec", dont_inherit=True)
    flags = (0b01).to_bytes(4, "little")  # hash-based, check_source off
    return importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(source) + marshal.dumps(code)


def rebuild(path: str, runtime_root: str) -> dict:
    """Drop what Lambda never runs and add bytecode, in place."""
    before = os.path.getsize(path)
    tmp = path + ".tmp"
    dropped = compiled = 0
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        keep = imported_test_modules(src)
        for info in src.infolist():
            if droppable(info.filename, keep) or "/__pycache__/" in "/" + info.filename:
                # stray bytecode from a developer's tree: the .pyc files are made below
                dropped += 1
                continue
            data = src.read(info)
            # Same ZipInfo (Chalice's fixed 1980 timestamps, permissions).
            dst.writestr(info, data, zipfile.ZIP_DEFLATED)
            if PYC and compilable(info.filename):
                try:
                    code = pyc(data, runtime_root + info.filename)
                except (SyntaxError, ValueError):
                    continue  # not importable on Python 3.11 anyway
                folder, _, module = info.filename.rpartition("/")
                name = f"{folder}/__pycache__/{module[:-3]}.{TAG}.pyc".lstrip("/")
                pinfo = zipfile.ZipInfo(name, date_time=info.date_time)
                pinfo.external_attr = info.external_attr
                dst.writestr(pinfo, code, zipfile.ZIP_DEFLATED)
                compiled += 1
    os.replace(tmp, path)
    return {"zipped_before": before, "files_dropped": dropped, "pyc_added": compiled}


def measure(path: str) -> dict:
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    top: dict[str, int] = {}
    for i in infos:
        key = site_path(i.filename).split("/")[0]
        top[key] = top.get(key, 0) + i.file_size
    return {
        "zipped": os.path.getsize(path),
        "unzipped": sum(i.file_size for i in infos),
        "files": len(infos),
        "largest": sorted(top.items(), key=lambda kv: -kv[1])[:6],
        "names": [i.filename for i in infos],
    }


def dist_infos(names: list[str]) -> set[str]:
    found = set()
    for n in names:
        m = re.match(r"(?:python/lib/python3\.\d+/site-packages/)?([^/]+)\.dist-info/", n)
        if m:
            found.add(re.sub(r"[-_.]+", "-", m.group(1)).lower())
    return found


def pins() -> list[str]:
    wanted = []
    for line in open("requirements.txt"):
        line = line.split("#")[0].strip()
        m = re.match(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+-]+)$", line)
        if m:
            wanted.append(re.sub(r"[-_.]+", "-", f"{m.group(1)}-{m.group(2)}").lower())
    return wanted


zips = [z for z in ("deployment.zip", "layer-deployment.zip") if os.path.exists(os.path.join(out, z))]
if "deployment.zip" not in zips:
    sys.exit(f"package: FAIL: {out}/deployment.zip was not produced")
template = json.load(open(os.path.join(out, "sam.json")))
runtimes = {
    r["Properties"].get("Runtime")
    for r in template["Resources"].values()
    if r["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")
}
here = f"python{sys.version_info.major}.{sys.version_info.minor}"
report: dict = {"runtime": sorted(runtimes), "stage_dir": out, "limits": {"zip_bytes": ZIP_LIMIT, "unzipped_bytes": UNZIPPED_LIMIT}, "zips": {}}
names: list[str] = []
problems: list[str] = []
warnings: list[str] = []
if runtimes != {here}:
    problems.append(f"Lambda runtime {sorted(runtimes)} is not this Python ({here}): wheels and .pyc would not match")
for name in zips:
    path = os.path.join(out, name)
    entry = rebuild(path, "/var/task/" if name == "deployment.zip" else "/opt/")
    entry.update(measure(path))
    names += entry.pop("names")
    report["zips"][name] = entry
    if entry["zipped"] > ZIP_LIMIT:
        msg = f"{name} is {entry['zipped'] / MiB:.1f} MiB zipped (limit 50 MiB per direct upload)"
        if S3_ONLY:
            warnings.append(msg + "; S3_ONLY=1: deploy through S3 (CloudFormation) only")
        else:
            problems.append(msg)
total = sum(z["unzipped"] for z in report["zips"].values())
report["unzipped_total"] = total
if total > UNZIPPED_LIMIT:
    problems.append(f"function + layers unzip to {total / MiB:.1f} MiB (limit 250 MiB)")
missing = sorted(set(pins()) - dist_infos(names))
report["missing_requirements"] = missing
if missing:
    problems.append("pinned requirements missing from the artefact: " + ", ".join(missing))
if not any(n.startswith("chalicelib/questionnaires/") and n.endswith(".yaml") for n in names):
    problems.append("no questionnaire YAML under chalicelib/questionnaires/ in deployment.zip")
if not any(n.startswith("chalicelib/questionnaires/") and n.endswith(".json") for n in names):
    problems.append("no compiled questionnaire JSON in deployment.zip (make sync-questionnaires)")
report["ok"] = not problems
report["warnings"] = warnings
report["problems"] = problems

print()
print(f"{'artefact':<24}{'zipped MiB':>12}{'before slim':>13}{'unzipped MiB':>14}{'files':>8}")
for name, z in report["zips"].items():
    print(
        f"{name:<24}{z['zipped'] / MiB:>12.2f}{z['zipped_before'] / MiB:>13.2f}"
        f"{z['unzipped'] / MiB:>14.2f}{z['files']:>8}"
    )
    print(
        f"    {z['files_dropped']} files dropped (tests, stubs, C/Cython sources), {z['pyc_added']} .pyc added; "
        "largest MiB unzipped: " + ", ".join(f"{k} {v / MiB:.1f}" for k, v in z["largest"])
    )
print(f"{'function + layers':<24}{'':>12}{'':>13}{total / MiB:>14.2f}")
print(
    f"limits: each zip <= 50 MiB ({ZIP_LIMIT} bytes), function + layers unzipped <= 250 MiB "
    f"({UNZIPPED_LIMIT} bytes); headroom {(UNZIPPED_LIMIT - total) / MiB:.1f} MiB unzipped, "
    f"{min((ZIP_LIMIT - z['zipped']) for z in report['zips'].values()) / MiB:.1f} MiB zipped"
)
with open(out + ".sizes.json", "w") as f:
    json.dump(report, f, indent=2)
for w in warnings:
    print(f"package: WARNING: {w}", file=sys.stderr)
if problems:
    for p in problems:
        print(f"package: FAIL: {p}", file=sys.stderr)
    sys.exit(1)
print(f"package: OK -> {out}/ (template {out}/sam.json, figures {out}.sizes.json)")
PY
