"""The bad-input corpus: every realistic mistake gets a located, actionable message and no traceback.

Each file in ``tests/bad_specs/`` is run through ``scaffold check`` in-process; ``expected.yaml``
lists what stderr (or, for the check-error group, stdout) must contain. Inputs that cannot live in
the repository (a file over 5 MiB, a directory, a missing file, pathological nesting) are written
to a temporary folder by the tests below.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from scaffold.cli import main
from scaffold.errors import SpecInvalid
from scaffold.spec.load import load_spec
from scaffold.spec.yaml_source import MAX_BYTES

CORPUS = Path(__file__).resolve().parent / "bad_specs"
EXPECTED: dict[str, dict[str, list[str]]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
EXIT_CODES = {"invalid": 2, "check_errors": 1}
CASES = [(group, name) for group in EXIT_CODES for name in EXPECTED[group]]


def runner() -> CliRunner:
    """A runner that keeps stderr apart from stdout.

    click 8.2+ always captures stderr separately (``result.output`` interleaves both, ``result.stdout``
    and ``result.stderr`` hold one each); click 8.1 does so only with ``mix_stderr=False``.
    """
    if "mix_stderr" in inspect.signature(CliRunner).parameters:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    return CliRunner()


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def run_check(spec: Path | str, cwd: Path) -> Result:
    """`scaffold check SPEC` from an empty folder; asserts it wrote nothing and never crashed."""
    corpus_before = snapshot(CORPUS)
    workdir = cwd / "workdir"
    workdir.mkdir()
    with contextlib.chdir(workdir):
        result = runner().invoke(main, ["check", str(spec)], env={"NO_COLOR": "1"})
    assert list(workdir.iterdir()) == [], "the command wrote files into the working folder"
    assert snapshot(CORPUS) == corpus_before, "the command changed files of the corpus"
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for text in (result.output, result.stdout, result.stderr):
        assert "Traceback" not in text
    return result


def assert_contains(text: str, expected: list[str]) -> None:
    missing = [part for part in expected if part not in text]
    assert not missing, f"missing {missing} in:\n{text}"


def test_expected_covers_exactly_the_corpus() -> None:
    files = {p.name for p in CORPUS.glob("[0-9][0-9]-*.yaml")}
    listed = [name for group in EXIT_CODES for name in EXPECTED[group]]
    assert sorted(listed) == sorted(files)
    assert set(EXPECTED) == set(EXIT_CODES)
    assert len(EXPECTED["invalid"]) >= 35
    for group, name in CASES:
        assert any(name in part for part in EXPECTED[group][name]), f"{name}: no substring names the file"


@pytest.mark.parametrize(("group", "name"), CASES, ids=[name.removesuffix(".yaml") for _, name in CASES])
def test_bad_spec(group: str, name: str, tmp_path: Path) -> None:
    result = run_check(CORPUS / name, tmp_path)
    assert result.exit_code == EXIT_CODES[group], result.output
    if group == "invalid":
        assert result.stdout == ""
        assert_contains(result.stderr, [*EXPECTED[group][name], f"{name}: invalid spec ("])
    else:
        assert result.stderr == ""
        assert_contains(result.stdout, EXPECTED[group][name])


# -- inputs generated here ---------------------------------------------------------------------

MINIMAL = "version: 1\nname: shop\nservices:\n  user-service: {}\n"


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    spec = tmp_path / "huge.yaml"
    padding = "# " + "x" * 1021 + "\n"
    spec.write_text(MINIMAL + padding * (MAX_BYTES // len(padding) + 1), encoding="utf-8")
    result = run_check(spec, tmp_path)
    assert result.exit_code == 2
    assert_contains(result.stderr, ["huge.yaml: file is ", f"bytes; the limit is {MAX_BYTES}", "`$ref`"])


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "spec.yaml"
    folder.mkdir()
    result = run_check(folder, tmp_path)
    assert result.exit_code == 2
    assert_contains(result.stderr, ["spec.yaml", "is a directory"])
    # The loader says the same when it is called without the CLI's argument check.
    with pytest.raises(SpecInvalid) as caught:
        load_spec(folder)
    assert [p.message for p in caught.value.problems] == ["is a directory, not a spec file"]


def test_missing_file(tmp_path: Path) -> None:
    result = run_check(tmp_path / "nowhere.yaml", tmp_path)
    assert result.exit_code == 2
    assert_contains(result.stderr, ["nowhere.yaml: file not found", "hint: check the path"])


GENERATED: dict[str, tuple[str, list[str]]] = {
    # PyYAML's composer recursed until RecursionError (a traceback) on deeply nested flow collections.
    "deep-flow-nesting": (
        "version: 1\nname: shop\nservices: " + "[" * 3000 + "]" * 3000 + "\n",
        ["spec.yaml: document is nested too deeply"],
    ),
    # jsonschema's check_schema recursed until RecursionError on a deeply nested inline schema.
    "deep-schema": (
        "version: 1\nname: shop\nmessages:\n  A:\n    schema: "
        + "{properties: {a: " * 100
        + "{}"
        + "}}" * 100
        + "\nservices: {user-service: {}}\n",
        ["spec.yaml:5:", "document is nested more than 100 levels deep"],
    ),
    # A self-referencing alias is an infinitely deep tree.
    "recursive-alias": (
        "version: 1\nname: shop\nloop: &a [*a]\nservices: {user-service: {}}\n",
        ["spec.yaml:3:", "nested more than 100 levels deep"],
    ),
    # jsonschema raised TypeError looking a non-text `$schema` up.
    "schema-dialect-not-text": (
        "version: 1\nname: shop\nmessages:\n  A:\n    schema: {$schema: [draft-07], type: object}\n"
        "services: {user-service: {}}\n",
        ["spec.yaml:5:14: messages.A.schema.$schema: `$schema` must be text"],
    ),
    # os.stat raised ValueError for a path with a NUL character; now no text may hold one.
    "ref-with-nul": (
        'version: 1\nname: shop\nmessages:\n  A:\n    $ref: "a\\0b.json"\nservices: {user-service: {}}\n',
        ["spec.yaml:5:11: messages.A.$ref: text contains the control character U+0000 at character 2"],
    ),
    # PyYAML raised ValueError / KeyError for explicitly tagged values that do not fit the tag.
    "bad-explicit-tags": (
        "version: 1\nname: shop\nsettings:\n  max_sync_depth: !!int three\n"
        "services:\n  user-service: {description: !!bool maybe}\n",
        [
            "spec.yaml:4:19: settings.max_sync_depth: `three` is not a valid `!!int`",
            "spec.yaml:6:31: services.user-service.description: `maybe` is not a valid `!!bool`",
        ],
    ),
    # An integer over Python's 4300-digit limit raised ValueError.
    "huge-integer": (
        "version: 1\nname: shop\nsettings: {max_sync_depth: " + "9" * 5000 + "}\nservices: {user-service: {}}\n",
        ["spec.yaml:3:28: settings.max_sync_depth: number `999", "is too large"],
    ),
    # A `$ref` to a folder is reported at the `$ref`, like every other unreadable schema file.
    "ref-to-directory": (
        "version: 1\nname: shop\nmessages:\n  A:\n    $ref: schemas.json\nservices: {user-service: {}}\n",
        ["spec.yaml:5:5: messages.A.$ref: schemas.json: is a directory"],
    ),
    # A contract file that is missing was reported without saying which spec entry names it.
    "missing-contract": (
        "version: 1\nname: shop\nservices:\n  user-service:\n    contracts: {proto: gone.proto}\n",
        ["spec.yaml:5:17: services.user-service.contracts.proto: gone.proto: file not found"],
    ),
}


@pytest.mark.parametrize("case", sorted(GENERATED))
def test_generated_bad_spec(case: str, tmp_path: Path) -> None:
    text, expected = GENERATED[case]
    (tmp_path / "schemas.json").mkdir()
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    result = run_check(spec, tmp_path)
    assert result.exit_code == 2, result.output
    assert_contains(result.stderr, expected)


def test_yaml_dates_and_odd_plain_scalars_stay_text(tmp_path: Path) -> None:
    """JSON has no dates: a schema's `default: 2024-01-31` must stay a string, and so must `=`."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "version: 1\nname: shop\ndescription: =\nmessages:\n  A:\n"
        "    schema: {type: string, format: date, default: 2024-01-31}\n"
        "services: {user-service: {description: 2024-01-31}}\n",
        encoding="utf-8",
    )
    loaded = load_spec(spec)
    assert loaded.description == "="
    assert loaded.messages["A"].schema["default"] == "2024-01-31"
    assert loaded.endpoints["user-service"].description == "2024-01-31"


# -- the real program ------------------------------------------------------------------------------


def console_commands() -> list[list[str]]:
    commands = [[sys.executable, "-m", "scaffold"]]
    script = Path(sys.executable).with_name("scaffold")
    if script.exists():
        commands.append([str(script)])
    return commands


@pytest.mark.parametrize("command", console_commands(), ids=lambda c: Path(c[-1]).name)
def test_console_script_on_a_bad_spec(command: list[str], tmp_path: Path) -> None:
    name = "06-interaction-opertion-typo.yaml"
    env: dict[str, Any] = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [*command, "check", str(CORPUS / name)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    assert_contains(run.stderr, [*EXPECTED["invalid"][name], f"{name}: invalid spec (1 problem)"])
    assert list(tmp_path.iterdir()) == []


# -- files a spec references stay in its folder ------------------------------------------------------


def confinement_case(tmp_path: Path) -> Path:
    """A spec whose references leave its folder in every way, beside one that stays in it."""
    folder, outside = tmp_path / "spec", tmp_path / "outside"
    (folder / "schemas").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.json").write_text('{"type": "object"}', encoding="utf-8")
    (folder / "schemas" / "ok.json").write_text('{"type": "object"}', encoding="utf-8")
    (folder / "link.json").symlink_to(outside / "secret.json")
    (folder / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.json")
    spec = folder / "spec.yaml"
    spec.write_text(
        "version: 1\nname: shop\nmessages:\n"
        "  A: {$ref: ../outside/secret.json}\n"
        f"  B: {{$ref: {outside / 'secret.json'}}}\n"
        "  C: {$ref: link.json}\n"
        "  D: {$ref: fifo.json}\n"
        "  E: {$ref: zero.json}\n"
        "  F: {$ref: schemas/ok.json}\n"
        "services:\n  user-service:\n    contracts: {openapi: ../outside/api.yaml}\n",
        encoding="utf-8",
    )
    return spec


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_references_outside_the_spec_folder_are_refused(tmp_path: Path) -> None:
    spec = confinement_case(tmp_path)
    result = run_check(spec, tmp_path)
    assert result.exit_code == 2
    outside = "leads outside " + str((tmp_path / "spec").resolve()) + ", the folder referenced files must be in"
    assert_contains(
        result.stderr,
        [
            f"spec.yaml:4:7: messages.A.$ref: `../outside/secret.json` {outside}",
            f"spec.yaml:5:7: messages.B.$ref: `{tmp_path / 'outside' / 'secret.json'}` {outside}",
            f"spec.yaml:6:7: messages.C.$ref: `link.json` {outside} (through a link, to ",
            "spec.yaml:7:7: messages.D.$ref: `fifo.json` is not a regular file (a device, FIFO or socket)",
            f"spec.yaml:8:7: messages.E.$ref: `zero.json` {outside} (through a link, to /dev/zero)",
            f"spec.yaml:12:17: services.user-service.contracts.openapi: `../outside/api.yaml` {outside}",
            "allow a wider folder with `--root DIR`",
            "invalid spec (6 problems)",
        ],
    )
    assert "messages.F" not in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_root_widens_the_folder_references_may_be_in(tmp_path: Path) -> None:
    spec = confinement_case(tmp_path)
    with pytest.raises(SpecInvalid) as caught:
        load_spec(spec, root=tmp_path)
    fields = sorted(p.field for p in caught.value.problems)
    # Inside the wider root: A, B and C now load; devices and FIFOs never do.
    assert fields == ["messages.D.$ref", "messages.E.$ref", "services.user-service.contracts.openapi"]
    assert "file not found" in caught.value.problems[-1].message
    result = runner().invoke(main, ["check", "--root", str(tmp_path), str(spec)], env={"NO_COLOR": "1"})
    assert result.exit_code == 2 and "invalid spec (3 problems)" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_spec_that_is_a_fifo_or_a_device_is_refused_without_waiting(kind: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    if kind == "fifo":
        os.mkfifo(spec)  # nobody ever writes to it: opening it for reading would block forever
    else:
        spec = Path("/dev/zero")
    result = run_check(spec, tmp_path)
    assert result.exit_code == 2
    assert_contains(result.stderr, [f"{spec}: is not a regular file (a device, FIFO or socket)"])
