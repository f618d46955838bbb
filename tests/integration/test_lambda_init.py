"""Lambda's init phase builds what the first request would otherwise pay for (the service and
the DynamoDB client), and only there: elsewhere importing the app stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

CHILD = (
    "import json, sys\n"
    f"sys.path.insert(0, {str(ROOT)!r})\n"
    "import app\n"
    "c = app.installed_container()\n"
    "svc = c.assessments if c is not None and c.built('assessments') else None\n"
    "print(json.dumps({'service': svc is not None,"
    " 'client': bool(svc is not None and svc.store._client is not None),"
    " 'botocore': 'botocore.session' in sys.modules,"
    " 'boto3': 'boto3' in sys.modules,"
    " 'scipy': 'scipy' in sys.modules}))\n"
)
DYNAMODB = {
    "PATH": "/usr/bin:/bin",
    "STORE": "dynamodb",
    "TABLE_NAME": "smm-test",
    "DYNAMODB_ENDPOINT": "http://127.0.0.1:9",  # never contacted: no request is made
    "AWS_REGION": "eu-central-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "SMM_SECRET": "s" * 48,
    "QUESTIONNAIRE_DIR": str(ROOT / "questionnaires"),
}


def _import_app(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_in_lambda_the_init_phase_builds_the_service_and_its_client() -> None:
    proc = _import_app({**DYNAMODB, "AWS_LAMBDA_FUNCTION_NAME": "smm-benchmark-prod"})
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {
        "service": True,
        "client": True,
        "botocore": True,
        "boto3": False,  # botocore alone: boto3 would add s3transfer for nothing
        "scipy": False,
    }


def test_outside_lambda_importing_the_app_builds_nothing() -> None:
    proc = _import_app(DYNAMODB)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {
        "service": False,
        "client": False,
        "botocore": False,
        "boto3": False,
        "scipy": False,
    }


def test_in_lambda_a_short_secret_fails_the_init_phase() -> None:
    env = {**DYNAMODB, "AWS_LAMBDA_FUNCTION_NAME": "smm-benchmark-prod"}
    proc = _import_app({**env, "SMM_SECRET": "short"})
    assert proc.returncode != 0
    assert "ValueError: SMM_SECRET must have at least 32 characters" in proc.stderr
