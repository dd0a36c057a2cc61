"""The TypeScript SDK in `clients/typescript`, as a frontend team uses it: its types are generated
from the committed `openapi.yaml` with openapi-typescript's default options, compile under
`tsc --strict --noUncheckedIndexedAccess`, and the end-to-end flow written against them passes on
the real server (`techex serve` over a fresh SQLite file).

Node.js and npm are required: `.ci/run` installs them from the system's package manager."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SDK = ROOT / "clients" / "typescript"
MODERATOR_EMAIL = "kiem-duyet@sokhcn.example.vn"
MODERATOR_PASSWORD = "duyet-tin-cong-nghe-2026"


@dataclass(frozen=True)
class Node:
    node: str
    npm: str


def run(*command: str, timeout: float, cwd: Path = SDK, env: dict[str, str] | None = None) -> str:
    """Run a command and return its output; fail the test with that output unless it succeeds."""
    try:
        done = subprocess.run(  # noqa: S603
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"`{' '.join(command)}` took more than {timeout:.0f} s:\n{expired.stdout}{expired.stderr}")
    output = f"{done.stdout}{done.stderr}"
    if done.returncode != 0:
        pytest.fail(f"`{' '.join(command)}` exited with {done.returncode}:\n{output}", pytrace=False)
    return output


@pytest.fixture(scope="module")
def node() -> Node:
    """Node.js and npm, with the SDK's locked dependencies installed (`npm ci`, again when the lock changes)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(
            "Node.js and npm are needed to check the TypeScript SDK in clients/typescript: "
            "install them (`apt-get install -y nodejs npm`, as .ci/run does)",
            pytrace=False,
        )
    stamp = SDK / "node_modules" / ".installed-lock-sha256"
    lock = hashlib.sha256((SDK / "package-lock.json").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != lock:
        run(npm, "ci", "--no-audit", "--no-fund", timeout=600)
        stamp.write_text(lock)
    return Node(node, npm)


def test_generated_types_match_the_openapi_document(node: Node) -> None:
    """`src/schema.d.ts` is what `npm run generate` makes of the committed `openapi.yaml`, with the
    generator's default options."""
    check = subprocess.run(  # noqa: S603
        [node.npm, "run", "generate", "--", "--check"],
        cwd=SDK,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, (
        "clients/typescript/src/schema.d.ts is stale: run `npm run generate` in clients/typescript and commit it\n"
        f"{check.stdout}{check.stderr}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def compilation(node: Node) -> Iterator[subprocess.Popen[str]]:
    """`tsc` on the SDK and the flow, started first so that it runs while the server starts: strict, no
    unchecked index access, nothing emitted when there is an error."""
    tsc = str(SDK / "node_modules" / "typescript" / "bin" / "tsc")
    process = subprocess.Popen(  # noqa: S603
        [node.node, tsc, "--strict", "--noUncheckedIndexedAccess", "--noEmitOnError"],
        cwd=SDK,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`techex serve` on a free port over a fresh migrated SQLite file, with a moderator account."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'techex.db'}",
        "INDEX_DIR": str(tmp_path / "index"),
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
    }
    techex = [sys.executable, "-m", "app.cli"]
    run(*techex, "migrate", cwd=tmp_path, env=env, timeout=120)
    run(
        *techex,
        "create-account",
        "--role=moderator",
        f"--email={MODERATOR_EMAIL}",
        "--organization=Sở Khoa học và Công nghệ Hải Phòng",
        "--full-name=Lê Thu Hà",
        f"--password={MODERATOR_PASSWORD}",
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603
            [*techex, "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(base_url: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not answer /healthz within {seconds:.0f} s:\n{log.read_text(errors='replace')}")


def test_the_flow_compiles_strictly_and_passes_on_the_live_server(
    node: Node, compilation: subprocess.Popen[str], server: str, tmp_path: Path
) -> None:
    compiler_output, _ = compilation.communicate(timeout=300)
    assert compilation.returncode == 0, f"tsc --strict --noUncheckedIndexedAccess failed:\n{compiler_output}"
    wait_until_up(server, tmp_path / "server.log")
    env = {
        **os.environ,
        "TECHEX_BASE_URL": server,
        "TECHEX_MODERATOR_EMAIL": MODERATOR_EMAIL,
        "TECHEX_MODERATOR_PASSWORD": MODERATOR_PASSWORD,
    }
    flow = subprocess.run(  # noqa: S603
        [node.node, "dist/e2e/flow.js"], cwd=SDK, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    output = f"{flow.stdout}{flow.stderr}"
    assert flow.returncode == 0, f"the TypeScript flow failed:\n{output}\nserver log:\n{server_log(tmp_path)}"
    assert "flow passed" in flow.stdout


def server_log(tmp_path: Path) -> str:
    return (tmp_path / "server.log").read_text(errors="replace")[-5000:]
