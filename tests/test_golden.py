"""Golden record: every file of every generated project, one snapshot file each, so a review shows
exactly how a template change changes the output.

Refresh after an intended change, then read the diff:

    pytest tests/test_golden.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from tests.generation import GENERATABLE, generate_example, load_script

# protoc's output follows from the contracts (the spec's or its fixtures') and the pinned grpcio-tools.
SKIPPED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


class GeneratedFile(SingleFileSnapshotExtension):
    file_extension = "txt"
    _write_mode = WriteMode.TEXT


@pytest.mark.parametrize("example", GENERATABLE)
def test_generated_tree_matches_the_golden_record(example: str, tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    out = tmp_path / "out"
    generate_example(example, out)
    files = sorted(
        p
        for p in out.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(SKIPPED_SUFFIXES)
    )
    listing = "\n".join(p.relative_to(out).as_posix() for p in files)
    assert listing == snapshot(name="files", extension_class=GeneratedFile)
    for path in files:
        relative = path.relative_to(out).as_posix()
        text = path.read_text(encoding="utf-8")
        assert text == snapshot(name=relative.replace("/", "."), extension_class=GeneratedFile), relative


def test_the_checked_in_template_is_released() -> None:
    """`generate` renders released template versions only: a change of templates/service/ must be
    released (`scripts/release_template.py NEW_VERSION`) before the golden record can show it."""
    assert load_script("release_template").check() == []
