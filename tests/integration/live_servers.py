"""Real servers for the interoperability tests: `techex serve` subprocesses, each on its own port and database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
MODERATOR_EMAIL = "moderator@so-khcn.example.vn"
MODERATOR_PASSWORD = "kiem-duyet-tin-2026-an-toan"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    env: dict[str, str]


def server_env(database_url: str, index_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "INDEX_DIR": str(index_dir),
        "EXPIRY_SWEEP_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "false",
        "LOAD_SHED_QUEUE_DELAY": "0",
        **extra,
    }


def techex(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_techex(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextmanager
def running_server(database_url: str, index_dir: Path) -> Iterator[Server]:
    """`techex serve` on a free port with a moderator account; stopped on exit."""
    env = server_env(database_url, index_dir)
    created = techex(
        "create-account",
        "--email",
        MODERATOR_EMAIL,
        "--organization",
        "Sở Khoa học và Công nghệ",
        "--role",
        "moderator",
        "--password",
        MODERATOR_PASSWORD,
        env=env,
    )
    assert created.returncode == 0, created.stderr
    port = free_port()
    process = start_techex("serve", "--port", str(port), env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server exited on start"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield Server(url, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
