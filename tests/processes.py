"""Generated services started as real processes on loopback, for the end-to-end and interop tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """One generated service run as `python -m <package>` from its src/ folder."""

    def __init__(self, root: Path, name: str, env: dict[str, str]) -> None:
        self.root, self.name, self.env = root, name, env
        self.process: subprocess.Popen[bytes] | None = None
        # A database of its own (outbox, inbox), kept across restarts of this service: the default URL is
        # relative to the working folder, which every test shares.
        variable = f"{name.replace('-', '_').upper()}_STORE__DATABASE_URL"
        if variable not in env:
            folder = Path(tempfile.mkdtemp(prefix=f"{name}-store-"))
            self.env = {**env, variable: f"sqlite:///{folder / 'service.sqlite3'}"}

    @property
    def src(self) -> Path:
        return self.root / self.name / "src"

    def start(self) -> None:
        package = self.name.replace("-", "_")
        env = {**os.environ, "PYTHONPATH": str(self.src), **self.env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", package], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)


def without_brokers(service: str) -> dict[str, str]:
    """Settings that point a service's RabbitMQ and Kafka links at a port nothing listens on. Its
    synchronous path serves anyway while the messaging keeps trying to start; /readyz answers 503 until
    then, so wait on /healthz."""
    prefix = service.replace("-", "_").upper()
    refused = free_port()
    return {
        f"{prefix}_AMQP__URL": f"amqp://guest:guest@127.0.0.1:{refused}/",
        f"{prefix}_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{refused}",
    }


def wait_ready(url: str, service: Service, seconds: float = 60) -> None:
    """Poll the service's readiness endpoint until it answers 200 (or the process exits)."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        assert service.process is not None
        if service.process.poll() is not None:
            stderr = service.process.stderr.read().decode() if service.process.stderr else ""
            pytest.fail(f"{service.name} exited: {stderr}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} not ready after {seconds} s")


def replace_function(handlers: Path, name: str, source: str) -> None:
    """Replace the user's handler ``name`` in handlers.py with ``source`` (as a user edits the file)."""
    text = handlers.read_text(encoding="utf-8")
    start = text.index(f"\n\nasync def {name}(")
    following = text.find("\n\nasync def ", start + 10)
    end = len(text) if following == -1 else following
    handlers.write_text(text[:start] + "\n\n" + source.strip("\n") + "\n" + text[end:], encoding="utf-8")
