"""grpcurl, the independent gRPC client the generated servers are driven with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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
