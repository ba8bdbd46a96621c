"""`playparse up` as people run it: a real process, the CLI against it, stop and restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.helpers import EXAMPLE

BIN = Path(sys.executable).parent


class Stack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port, self.temporal_port, self.ui_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.ready_line = ""

    def start(self, timeout: float = 90, *, by_environment: bool = False) -> None:
        """Start `playparse up`; the data dir and API port as options, or as PLAYPARSE_*."""
        ports = ["--temporal-port", str(self.temporal_port), "--ui-port", str(self.ui_port)]
        env = {**os.environ, "PLAYPARSE_DATABASE_URL": ""}
        if by_environment:
            options = ports
            env |= {"PLAYPARSE_DATA_DIR": str(self.data_dir), "PLAYPARSE_API_PORT": str(self.port)}
        else:
            options = ["--data-dir", str(self.data_dir), "--port", str(self.port), *ports]
        self.process = subprocess.Popen(
            [str(BIN / "playparse"), "up", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        output: list[str] = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            output.append(line)
            if line.startswith("playparse ready:"):
                self.ready_line = line.strip()
                # Keep reading so a chatty stack never blocks on a full pipe.
                threading.Thread(target=self.process.stdout.read, daemon=True).start()
                return
            if not line and self.process.poll() is not None:
                break
        raise AssertionError(
            f"stack did not become ready (exit {self.process.poll()}):\n{''.join(output)}"
        )

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "playparse"), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PLAYPARSE_URL": self.url},
        )


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(tmp_path / "data")
    yield stack
    if stack.process is not None:
        stack.process.kill()
        stack.process.wait()


def test_up_serves_the_cli_and_a_restart_keeps_and_finishes_jobs(stack: Stack) -> None:
    stack.start()
    assert stack.ready_line == (
        f"playparse ready: api={stack.url} temporal=127.0.0.1:{stack.temporal_port} "
        f"ui=http://127.0.0.1:{stack.ui_port}"
    )
    assert httpx.get(f"http://127.0.0.1:{stack.ui_port}/").status_code == 200

    parsed = stack.cli("parse", str(EXAMPLE), "--wait", "-o", "json")
    assert parsed.returncode == 0, parsed.stderr
    job = json.loads(parsed.stdout)
    assert job["status"] == "completed"
    result = stack.cli("result", job["id"])
    assert json.loads(result.stdout)["schema"] == "playbook/v1"
    listed = stack.cli("jobs", "--status", "completed")
    assert job["id"] in listed.stdout
    missing = stack.cli("job", "job_nope")
    assert missing.returncode == 3 and "no job" in missing.stderr
    page = httpx.get(f"{stack.url}/jobs/{job['id']}").text
    assert f"http://127.0.0.1:{stack.ui_port}/namespaces/default/workflows/{job['id']}" in page

    # A long job (small chunks) is interrupted by a stop and finishes after the restart.
    long_job = json.loads(
        stack.cli("parse", str(EXAMPLE), "--chunk-size", "200", "-o", "json").stdout
    )
    deadline = time.monotonic() + 30
    while httpx.get(f"{stack.url}/api/jobs/{long_job['id']}").json()["chunks_done"] < 3:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert stack.stop() == 0
    assert stack.cli("jobs").returncode == 4

    # The same data dir and port from the environment: the jobs are there.
    stack.start(by_environment=True)
    deadline = time.monotonic() + 120
    while True:
        current = httpx.get(f"{stack.url}/api/jobs/{long_job['id']}").json()
        if current["status"] == "completed":
            break
        assert current["status"] in ("queued", "running"), current
        assert time.monotonic() < deadline
        time.sleep(0.2)
    kept = httpx.get(f"{stack.url}/api/jobs/{job['id']}").json()
    assert kept["status"] == "completed"
    assert stack.stop() == 0


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_ctrl_c_while_the_stack_starts_stops_what_has_started(stack: Stack) -> None:
    ports = ["--temporal-port", str(stack.temporal_port), "--ui-port", str(stack.ui_port)]
    process = subprocess.Popen(
        [str(BIN / "playparse"), "up", "--data-dir", str(stack.data_dir), "--port", str(stack.port)]
        + ports,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PLAYPARSE_DATABASE_URL": ""},
    )
    try:
        # Interrupted once the Temporal dev server is listening, before the stack is ready.
        deadline = time.monotonic() + 60
        while _port_free(stack.temporal_port):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "playparse ready" not in out and "Traceback" not in err
    # The dev server it had started is gone with it.
    deadline = time.monotonic() + 10
    while not (_port_free(stack.temporal_port) and _port_free(stack.ui_port)):
        assert time.monotonic() < deadline, "the Temporal dev server outlived the stack"
        time.sleep(0.1)


def test_the_demo_says_why_its_play_was_refused(stack: Stack, tmp_path: Path) -> None:
    picture = tmp_path / "poster.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    ports = ["--temporal-port", str(stack.temporal_port), "--ui-port", str(stack.ui_port)]
    process = subprocess.Popen(
        [str(BIN / "playparse"), "demo", str(picture), "--data-dir", str(stack.data_dir)]
        + ["--port", str(stack.port), *ports],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PLAYPARSE_DATABASE_URL": ""},
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 90
        errors = []
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if line.startswith("error:"):
                errors.append(line.strip())
                break
            assert line or process.poll() is None, "the demo ended without saying why"
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert errors == ["error: 415 the file is not a PDF, DOCX or text file"]
