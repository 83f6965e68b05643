"""grpcurl, the independent gRPC client the generated servers are driven with, and a generated
server run as a process of its own."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.generation import ROOT

# scripts/install_tools.sh puts it here when it is not on PATH.
LOCAL_GRPCURL = ROOT / ".cache" / "tools" / "bin" / "grpcurl"


def grpcurl_path() -> str:
    found = shutil.which("grpcurl") or (str(LOCAL_GRPCURL) if LOCAL_GRPCURL.is_file() else None)
    if found is None:
        message = "grpcurl is not installed (scripts/install_tools.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def grpcurl(address: str, *args: str, data: dict[str, Any] | None = None) -> list[Any]:
    command = [grpcurl_path(), "-plaintext", "-max-time", "60"]
    if data is not None:
        command += ["-d", json.dumps(data)]
    result = subprocess.run([*command, address, *args], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    if args[0] == "list":
        return result.stdout.split()
    decoder, text, found = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        value, end = decoder.raw_decode(text)
        found.append(value)
        text = text[end:].strip()
    return found


@contextlib.contextmanager
def running_server(service: Path, script: str) -> Iterator[list[str]]:
    """Run ``script`` (which starts the service's gRPC server and prints its port first, and what else
    it wants on that line) with the service's src/ on the path; the words of that line, while it runs."""
    env = {**os.environ, "PYTHONPATH": str(service / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=service, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.split() or not line.split()[0].isdigit():
            process.kill()
            _, err = process.communicate(timeout=30)
            pytest.fail(f"the generated server did not start: {line}{err}")
        yield line.split()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
