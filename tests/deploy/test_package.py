"""The deployable artefact: ``scripts/package.sh`` builds it (``chalice package`` for the prod
stage, slimmed, with bytecode), and the app imported from the unpacked zips ALONE - a fresh
interpreter whose sys.path holds only the standard library and the unpacked dirs - answers
API Gateway proxy events, finds its questionnaires inside the artefact and can import scipy.

The build downloads Lambda-compatible wheels from PyPI on its first run (then Chalice reuses
.chalice/deployments/) and takes up to a couple of minutes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
ZIP_LIMIT = 50 * MiB
UNZIPPED_LIMIT = 250 * MiB
LAYER_SITE = "python/lib/python3.11/site-packages"


@dataclass(frozen=True)
class Artefact:
    out: Path  # sam.json + zips
    sizes: dict[str, Any]  # written by package.sh
    paths: list[str]  # sys.path entries Lambda would add (/var/task, layer dirs)
    build_log: str


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line.split("#")[0].strip())
        if m:
            found[m.group(1).lower()] = m.group(2)
    return found


@pytest.fixture(scope="session")
def artefact(tmp_path_factory: pytest.TempPathFactory) -> Artefact:
    base = tmp_path_factory.mktemp("package")
    out = base / "package"
    env = {**os.environ, "OUT": str(out), "BIN": str(Path(sys.executable).parent)}
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "package.sh")],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"scripts/package.sh failed:\n{log[-5000:]}"
    sizes = json.loads(Path(f"{out}.sizes.json").read_text())
    task, opt = base / "task", base / "opt"
    with zipfile.ZipFile(out / "deployment.zip") as z:
        z.extractall(task)
    paths = [str(task)]
    if (out / "layer-deployment.zip").exists():
        with zipfile.ZipFile(out / "layer-deployment.zip") as z:
            z.extractall(opt)
        paths += [str(opt / LAYER_SITE), str(opt / "python")]
    return Artefact(out, sizes, paths, log)


# Runs in a fresh interpreter: -I (no PYTHON* variables, no user site), -S (no site module,
# so not even the venv's site-packages): the stdlib plus the unpacked artefact, nothing else.
CHILD = r"""
import json, sys
cfg = json.loads(sys.stdin.read())
sys.path[:0] = cfg["paths"]
import app

class Context:
    function_name = "smm-benchmark-prod"
    memory_limit_in_mb = "1024"
    aws_request_id = "test"
    invoked_function_arn = ""
    def get_remaining_time_in_millis(self):
        return 30000

out = {"responses": []}
for event in cfg["events"]:
    resp = app.app(event, Context())
    out["responses"].append({"status": resp["statusCode"], "body": json.loads(resp["body"])})
out["scipy_after_requests"] = "scipy" in sys.modules or "numpy" in sys.modules
out["files"] = {m: sys.modules[m].__file__ for m in ("app", "chalice", "chalicelib", "pydantic",
                                                   "pydantic_core", "yaml")}
out["sys_path"] = sys.path
import numpy, scipy, scipy.stats, scipy.special, scipy.optimize, scipy.linalg
import scipy.integrate, scipy.interpolate
out["numpy"] = numpy.__version__
out["scipy"] = scipy.__version__
out["scipy_file"] = scipy.__file__
out["t_975"] = float(scipy.stats.t.ppf(0.975, 10))
out["mannwhitney_p"] = float(scipy.stats.mannwhitneyu([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).pvalue)
print(json.dumps(out))
"""


def event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    """An API Gateway REST proxy event, built by hand."""
    headers = {"Host": "a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {"lang": "en"} if method == "GET" else None,
        "multiValueQueryStringParameters": {"lang": ["en"]}
        if method == "GET"
        else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.10"},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


@pytest.fixture(scope="session")
def run_from_artefact(
    artefact: Artefact, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    example = json.loads((ROOT / "examples" / "assessment.json").read_text())
    score = {k: example[k] for k in ("questionnaire", "version", "language", "answers")}
    cfg = {
        "paths": artefact.paths,
        "events": [
            event("GET", "/v1/questionnaires"),
            event("POST", "/v1/scores", score),
        ],
    }
    data = tmp_path_factory.mktemp("data")
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", CHILD],
        input=json.dumps(cfg),
        check=False,
        capture_output=True,
        text=True,
        cwd=data,
        # no QUESTIONNAIRE_DIR: the questionnaires must come from inside the artefact
        env={"PATH": "/usr/bin:/bin", "STORE": "sqlite", "DATA_DIR": str(data)},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_handler_lists_questionnaires_from_the_artefact(
    run_from_artefact: dict[str, Any],
) -> None:
    listed = run_from_artefact["responses"][0]
    assert listed["status"] == 200, listed
    assert {"id": "smm", "version": "1.0.0"}.items() <= listed["body"]["items"][
        0
    ].items()


def test_handler_scores_from_the_artefact_without_scipy(
    run_from_artefact: dict[str, Any],
) -> None:
    scored = run_from_artefact["responses"][1]
    assert scored["status"] == 200, scored
    assert 0 <= scored["body"]["result"]["phase"]["number"] <= 7
    assert run_from_artefact["scipy_after_requests"] is False


def test_every_module_comes_from_the_artefact(
    artefact: Artefact, run_from_artefact: dict[str, Any]
) -> None:
    for module, path in run_from_artefact["files"].items():
        assert any(path.startswith(p) for p in artefact.paths), (module, path)
    assert not any(".venv" in p for p in run_from_artefact["sys_path"])


def test_scipy_and_numpy_import_from_the_artefact(
    artefact: Artefact, run_from_artefact: dict[str, Any]
) -> None:
    pinned = pins()
    assert run_from_artefact["numpy"] == pinned["numpy"]
    assert run_from_artefact["scipy"] == pinned["scipy"]
    assert any(run_from_artefact["scipy_file"].startswith(p) for p in artefact.paths)
    assert run_from_artefact["t_975"] == pytest.approx(2.228139, abs=1e-6)
    assert run_from_artefact["mannwhitney_p"] == pytest.approx(0.007937, abs=1e-5)


def test_within_lambda_size_limits(artefact: Artefact) -> None:
    zips = list(artefact.out.glob("*.zip"))
    assert zips
    unzipped = 0
    kept_tests = []
    # S3_ONLY=1 (scripts/package.sh): the artefact reaches Lambda only through S3, where the
    # 50 MiB direct-upload limit does not apply; the 250 MiB unzipped limit always does.
    direct_upload = os.environ.get("S3_ONLY", "0") != "1"
    for z in zips:
        if direct_upload:
            assert z.stat().st_size <= ZIP_LIMIT, (z.name, z.stat().st_size)
        with zipfile.ZipFile(z) as f:
            unzipped += sum(i.file_size for i in f.infolist())
            kept_tests += [n for n in f.namelist() if "/tests/" in n]
    assert unzipped <= UNZIPPED_LIMIT
    # test suites are dropped, except the few modules library code imports
    assert len(kept_tests) < 10, kept_tests
    assert artefact.sizes["ok"] is True
    assert artefact.sizes["unzipped_total"] == unzipped
    assert "Could not install dependencies" not in artefact.build_log


def test_every_pinned_requirement_is_in_the_artefact(artefact: Artefact) -> None:
    assert artefact.sizes["missing_requirements"] == []
    found = set()
    for z in artefact.out.glob("*.zip"):
        with zipfile.ZipFile(z) as f:
            for n in f.namelist():
                m = re.match(
                    rf"(?:{LAYER_SITE}/)?([^/]+)-([^-/]+)\.dist-info/METADATA$", n
                )
                if m:
                    found.add((m.group(1).lower().replace("_", "-"), m.group(2)))
    for name, version in pins().items():
        assert (name.replace("_", "-"), version) in found, name


def test_template_references_the_function_and_its_code(artefact: Artefact) -> None:
    template = json.loads((artefact.out / "sam.json").read_text())
    resources = template["Resources"]
    handler = resources["APIHandler"]
    assert handler["Type"] == "AWS::Serverless::Function"
    props = handler["Properties"]
    assert props["Handler"] == "app.app"
    assert (
        props["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    )
    assert props["CodeUri"] == "./deployment.zip"
    assert (artefact.out / "deployment.zip").exists()
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][
        "prod"
    ]
    assert props["MemorySize"] == config["lambda_memory_size"]
    assert props["Environment"]["Variables"]["STORE"] == "dynamodb"
    assert (
        props["Environment"]["Variables"]["TABLE_NAME"]
        == config["environment_variables"]["TABLE_NAME"]
    )
    for layer in props.get("Layers", []):
        if isinstance(layer, dict) and "Ref" in layer:
            content = resources[layer["Ref"]]["Properties"]["ContentUri"]
            assert (artefact.out / content).exists()
    api = resources["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"
    body = api["Properties"]["DefinitionBody"]
    assert "/v1/questionnaires" in body["paths"]
    assert "RestAPIId" in template["Outputs"]
    keyed = [
        op
        for ops in body["paths"].values()
        for op in ops.values()
        if isinstance(op, dict) and {"api_key": []} in op.get("security", [])
    ]
    if keyed:  # usage plans meter the key the authorizer names (usageIdentifierKey)
        assert body["x-amazon-apigateway-api-key-source"] == "AUTHORIZER"
    # API Gateway's own refusals are problem documents (chalicelib/gateway.py)
    gateway = body["x-amazon-apigateway-gateway-responses"]
    assert gateway["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == 404
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "DEFAULT_4XX"} <= set(gateway)
    # webhook retries: a scheduled function with the handler's table and secret
    retry = resources["DeliverWebhooks"]["Properties"]
    (schedule,) = retry["Events"].values()
    assert schedule == {
        "Type": "Schedule",
        "Properties": {"Schedule": "rate(1 minute)"},
    }
    assert retry["Environment"] == props["Environment"]
    # benchmark releases (issue 15): a scheduled function on RELEASE_SCHEDULE's default
    release = resources["PublishReleases"]["Properties"]
    (rule,) = release["Events"].values()
    assert rule == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)"}}
    assert release["Handler"] == "app.publish_releases"
    assert release["Environment"] == props["Environment"]


def test_stream_aggregator_is_wired_with_failure_handling(artefact: Artefact) -> None:
    """Issue 15: the table's stream invokes app.aggregate_stream with partial batch
    failures, bisection, 5 retries, an SQS on-failure destination, a filter on assessment
    items and the stream ARN of the table stack; an IteratorAge alarm watches it."""
    template = json.loads((artefact.out / "sam.json").read_text())
    resources = template["Resources"]
    fn = resources["AggregateStream"]["Properties"]
    assert fn["Handler"] == "app.aggregate_stream"
    assert fn["Environment"] == resources["APIHandler"]["Properties"]["Environment"]
    (source,) = fn["Events"].values()
    assert source["Type"] == "DynamoDB"
    p = source["Properties"]
    assert p["Stream"] == {"Fn::ImportValue": "smm-benchmark-prod-table-StreamArn"}
    assert p["StartingPosition"] == "TRIM_HORIZON"
    assert p["BatchSize"] == 1000
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert p["BisectBatchOnFunctionError"] is True
    assert p["MaximumRetryAttempts"] == 5
    queue = p["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert resources[queue]["Type"] == "AWS::SQS::Queue"
    (pattern,) = p["FilterCriteria"]["Filters"]
    assert json.loads(pattern["Pattern"]) == {
        "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "ASSESSMENT#"}]}}}
    }
    alarms = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    age = [a for a in alarms if a["MetricName"] == "IteratorAge"]
    assert age and age[0]["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": "AggregateStream"}}
    ]
    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    actions = {a for st in policy["Statement"] for a in st["Action"]}
    assert {
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "sqs:SendMessage",
    } <= actions


def test_template_passes_cfn_lint(artefact: Artefact) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    proc = subprocess.run(
        [str(cfn_lint), str(artefact.out / "sam.json")],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
