"""`scaffold update`: spec changes and template changes merged into generated services through git,
with the user's edits kept, conflicts reported, and nothing changed when it refuses or only looks."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scaffold.cli import main
from scaffold.generate import recorded_template_version
from tests.generation import ROOT, add_template_version, commit_all, git, run_tool, tree_bytes

SPECS = ROOT / "tests" / "fixtures" / "update"


def scaffold(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding the v1 shop generated into out/, committed, with a fresh HOME."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    root = tmp_path / "repo"
    result = scaffold("generate", str(SPECS / "v1.yaml"), "-o", str(root / "out"))
    assert result.exit_code == 0, result.output
    git(root, "init", "-q")
    commit_all(root, "generated")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, path
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def check_service(service: Path) -> None:
    for command in (
        ("ruff", "check", "--no-cache", "."),
        ("mypy", "--no-incremental", "--cache-dir=/dev/null"),
        ("pytest", "-q", "-p", "no:cacheprovider"),
    ):
        result = run_tool(service, *command)
        assert result.returncode == 0, f"{service.name}: {' '.join(command)}\n{result.stdout}\n{result.stderr}"


def test_spec_changes_land_and_the_users_code_stays(repo: Path) -> None:
    """(c) an added interaction brings its client and producer, handlers stay the user's (stubs added for
    what they lack), a removed interaction's files go away; (e) ruff, mypy and the service's own tests pass
    after every update; (d) an update run twice changes nothing the second time."""
    out = repo / "out"
    order_handlers = out / "order-service" / "src" / "order_service" / "handlers.py"
    user_handlers = out / "user-service" / "src" / "user_service" / "handlers.py"
    edit(order_handlers, "from .generated import models\n", "from .generated import models  # my import\n")
    edit(out / "order-service" / "README.md", "\n", "\nMy own note on this service.\n")
    commit_all(repo, "my edits")
    mine = order_handlers.read_text(encoding="utf-8")
    theirs = user_handlers.read_bytes()

    result = scaffold("update", str(out), "--spec", str(SPECS / "v2.yaml"))
    assert result.exit_code == 0, result.output
    client = out / "user-service" / "src" / "user_service" / "generated"
    assert "async def cancel(" in (client / "clients.py").read_text(encoding="utf-8")
    assert "def publish_note(" in (client / "messaging.py").read_text(encoding="utf-8")
    assert "My own note on this service." in (out / "order-service" / "README.md").read_text(encoding="utf-8")
    assert user_handlers.read_bytes() == theirs
    stubbed = order_handlers.read_text(encoding="utf-8")
    changes = difflib.SequenceMatcher(None, mine.splitlines(), stubbed.splitlines()).get_opcodes()
    assert {change[0] for change in changes} == {"equal", "insert"}, "the user's handlers file only grew"
    assert "order-service: operation Cancel is not implemented yet" in stubbed
    assert "from .generated.messaging import MessageContext" in stubbed
    assert "stub cancel() for operation Cancel" in result.output
    assert "stub on_note() for queue message Note" in result.output

    # The new operation's test is added to the user's tests, and fails, naming it, until the handler is written.
    tests = (out / "order-service" / "tests" / "test_handlers.py").read_text(encoding="utf-8")
    assert "def test_rest_cancel()" in tests
    assert "add to order-service/tests/test_handlers.py the test test_rest_cancel()" in result.output
    failing = run_tool(out / "order-service", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_handlers.py")
    assert failing.returncode != 0, failing.stdout
    assert "order-service: operation Cancel is not implemented yet" in failing.stdout
    assert "1 failed, 1 passed" in failing.stdout, failing.stdout
    bodies = iter(["return request", "return None"])  # cancel(), then on_note()
    written = re.sub(r"raise NotImplementedError\(\n.*\n    \)", lambda _: next(bodies), stubbed)
    order_handlers.write_text(written, encoding="utf-8")
    commit_all(repo, "updated to v2, handlers written")
    for service in ("order-service", "user-service"):
        check_service(out / service)

    again = scaffold("update", str(out), "--spec", str(SPECS / "v2.yaml"))
    assert again.exit_code == 0, again.output
    assert "is up to date" in again.output
    assert git(repo, "status", "--porcelain") == ""

    retry_after = client / "runtime" / "retry_after.py"
    retry_after.write_text(retry_after.read_text(encoding="utf-8") + "# my change\n", encoding="utf-8")
    commit_all(repo, "edited a generated file")
    result = scaffold("update", str(out), "--spec", str(SPECS / "v3.yaml"))
    assert result.exit_code == 0, result.output
    assert not (client / "runtime" / "http.py").exists()
    assert not (out / "user-service" / "tests" / "generated" / "test_clients.py").exists()
    assert "async def cancel(" not in (client / "clients.py").read_text(encoding="utf-8")
    assert retry_after.read_text(encoding="utf-8").endswith("# my change\n"), "an edited file is kept"
    assert "kept your edited user-service/src/user_service/generated/runtime/retry_after.py" in result.output
    assert "get() is no longer called" not in result.output, "order-service still serves Get"
    commit_all(repo, "updated to v3")
    for service in ("order-service", "user-service"):
        check_service(out / service)
    again = scaffold("update", str(out), "--spec", str(SPECS / "v3.yaml"))
    assert again.exit_code == 0 and "is up to date" in again.output, again.output
    assert git(repo, "status", "--porcelain") == ""


def test_a_conflict_is_listed_by_file_with_a_non_zero_exit(repo: Path) -> None:
    out = repo / "out"
    pyproject = out / "order-service" / "pyproject.toml"
    edit(pyproject, '    "pydantic-settings>=2.4,<3",\n', '    "pydantic-settings>=2.4,<3",\n    "my-library>=1",\n')
    commit_all(repo, "my dependency")
    result = scaffold("update", str(out), "--spec", str(SPECS / "v2.yaml"))
    assert result.exit_code == 1, result.output
    assert "conflict: order-service/pyproject.toml" in result.output
    assert "Traceback" not in result.output
    text = pyproject.read_text(encoding="utf-8")
    assert "<<<<<<<" in text and '"my-library>=1"' in text and "aio-pika" in text
    assert (out / "user-service" / "src" / "user_service" / "generated" / "messaging.py").is_file()
    assert git(repo, "ls-files", "-u").count("\tout/order-service/pyproject.toml") == 3, "unmerged, as git shows it"

    # The conflict left in the tree, or committed unresolved, is refused on the next run.
    again = scaffold("update", str(out), "--spec", str(SPECS / "v2.yaml"))
    assert again.exit_code == 2 and "unresolved merge conflicts" in again.output, again.output
    assert "out/order-service/pyproject.toml" in again.output
    commit_all(repo, "committed with the conflict")
    again = scaffold("update", str(out), "--spec", str(SPECS / "v2.yaml"))
    assert again.exit_code == 2, again.output
    assert "unresolved conflicts committed: order-service/pyproject.toml" in again.output


def test_a_dirty_tree_is_refused_and_a_dry_run_changes_nothing(repo: Path) -> None:
    out = repo / "out"
    handlers = out / "order-service" / "src" / "order_service" / "handlers.py"
    handlers.write_text(handlers.read_text(encoding="utf-8") + "# not committed\n", encoding="utf-8")
    before = tree_bytes(out)
    result = scaffold("update", str(out), "--spec", str(SPECS / "v2.yaml"))
    assert result.exit_code == 2, result.output
    assert "uncommitted changes: out/order-service/src/order_service/handlers.py" in result.output
    assert "git stash -u" in result.output and "Traceback" not in result.output
    assert tree_bytes(out) == before

    git(repo, "checkout", "--", ".")
    before = tree_bytes(out)
    result = scaffold("update", str(out), "--spec", str(SPECS / "v2.yaml"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "  A user-service/src/user_service/generated/messaging.py" in result.output
    assert "  M order-service/src/order_service/handlers.py" in result.output
    assert "would add to order-service/src/order_service/handlers.py a stub cancel()" in result.output
    assert tree_bytes(out) == before
    assert git(repo, "status", "--porcelain") == ""


def test_without_a_spec_an_up_to_date_folder_is_left_alone(repo: Path) -> None:
    result = scaffold("update", str(repo / "out"))
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.output
    assert git(repo, "status", "--porcelain") == ""


def test_a_generated_file_the_user_deleted_stays_deleted(repo: Path) -> None:
    deleted = repo / "out" / "order-service" / "tests" / "generated" / "test_settings.py"
    deleted.unlink()
    commit_all(repo, "I do not want this test")
    result = scaffold("update", str(repo / "out"), "--spec", str(SPECS / "v2.yaml"))
    assert result.exit_code == 0, result.output
    assert not deleted.exists()
    commit_all(repo, "updated to v2")
    back = scaffold("update", str(repo / "out"), "--spec", str(SPECS / "v1.yaml"))
    assert back.exit_code == 0, back.output
    handlers = "order-service/src/order_service/handlers.py"
    assert f"{handlers}: cancel() is no longer called (its operation left the spec); delete it" in back.output
    assert "order-service/tests/generated/test_settings.py" not in result.output


def test_a_folder_outside_git_is_refused(tmp_path: Path, repo: Path) -> None:
    outside = tmp_path / "elsewhere"
    result = scaffold("generate", str(SPECS / "v1.yaml"), "-o", str(outside))
    assert result.exit_code == 0, result.output
    result = scaffold("update", str(outside), "--spec", str(SPECS / "v2.yaml"))
    assert result.exit_code == 2 and "is not in a git repository" in result.output, result.output


def test_generate_force_adds_stubs_and_tests_for_new_operations(repo: Path) -> None:
    out = repo / "out"
    handlers = out / "order-service" / "src" / "order_service" / "handlers.py"
    edit(handlers, "from .generated import models\n", "from .generated import models  # my import\n")
    result = scaffold("generate", str(SPECS / "v2.yaml"), "-o", str(out), "--force")
    assert result.exit_code == 0, result.output
    text = handlers.read_text(encoding="utf-8")
    assert "from .generated import models  # my import\n" in text
    assert "order-service: operation Cancel is not implemented yet" in text
    assert "a stub cancel() for operation Cancel" in result.output
    assert "the test test_rest_cancel() of a new operation" in result.output
    tests = (out / "order-service" / "tests" / "test_handlers.py").read_text(encoding="utf-8")
    assert tests.count("def test_rest_cancel()") == 1
    again = scaffold("generate", str(SPECS / "v2.yaml"), "-o", str(out), "--force")
    assert again.exit_code == 0 and "a stub" not in again.output, again.output
    assert handlers.read_text(encoding="utf-8") == text


def test_a_template_change_lands_through_update_and_keeps_edits(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed scaffold's template is newer than the one the services record: without --spec, update
    brings them to it, with the user's edit of the same file kept."""
    from scaffold import update as update_module
    from scaffold.render import history
    from scaffold.render import service as service_module

    template = repo.parent / "next"
    shutil.copytree(ROOT / "templates" / "service", template)
    readme = template / "README.md.jinja"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nSee the operations guide.\n", encoding="utf-8")
    add_template_version(template, "99.0.0")
    for module in (history, service_module, update_module):
        monkeypatch.setattr(module, "template_version", lambda: "99.0.0")
    out = repo / "out"
    service_readme = out / "order-service" / "README.md"
    service_readme.write_text("My own opening line.\n\n" + service_readme.read_text(encoding="utf-8"), encoding="utf-8")
    commit_all(repo, "my edit")

    result = scaffold("update", str(out))
    assert result.exit_code == 0, result.output
    assert "update order-service (template " in result.output and "-> 99.0.0)" in result.output
    text = service_readme.read_text(encoding="utf-8")
    assert text.startswith("My own opening line.\n") and text.endswith("See the operations guide.\n")
    other = (out / "user-service" / "README.md").read_text(encoding="utf-8")
    assert other.endswith("See the operations guide.\n")
    for service in ("order-service", "user-service"):
        assert recorded_template_version(out / service) == "99.0.0"
    commit_all(repo, "updated")
    again = scaffold("update", str(out))
    assert again.exit_code == 0 and "is up to date" in again.output, again.output


def test_an_unmerged_path_anywhere_in_the_repository_is_refused(repo: Path) -> None:
    notes = repo / "NOTES.md"
    notes.write_text("one\n", encoding="utf-8")
    commit_all(repo, "notes")
    git(repo, "checkout", "-q", "-b", "other")
    notes.write_text("two\n", encoding="utf-8")
    commit_all(repo, "notes on a branch")
    git(repo, "checkout", "-q", "-")
    notes.write_text("three\n", encoding="utf-8")
    commit_all(repo, "other notes")
    merge = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost", "merge", "-q", "other"]
    assert subprocess.run(merge, capture_output=True, check=False).returncode == 1
    assert "NOTES.md" in git(repo, "ls-files", "-u")
    before = tree_bytes(repo / "out")
    result = scaffold("update", str(repo / "out"), "--spec", str(SPECS / "v2.yaml"))
    assert result.exit_code == 2, result.output
    assert "unresolved merge conflicts" in result.output and "NOTES.md" in result.output
    assert tree_bytes(repo / "out") == before


def test_a_service_from_a_newer_template_is_refused(repo: Path) -> None:
    answers = repo / "out" / "user-service" / ".copier-answers.yml"
    text = answers.read_text(encoding="utf-8")
    answers.write_text(re.sub(r"(?m)^_commit: .*$", "_commit: 99.0.0", text), encoding="utf-8")
    commit_all(repo, "from the future")
    result = scaffold("update", str(repo / "out"), "--spec", str(SPECS / "v2.yaml"))
    assert result.exit_code == 1, result.output
    assert "template version 99.0.0" in result.output and "upgrade scaffold" in result.output
    assert git(repo, "status", "--porcelain") == ""


def test_an_update_stopped_while_writing_leaves_the_tree_as_it_was(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scaffold import update as update_module
    from scaffold.plan.engine import build_plan
    from scaffold.spec.load import load_spec

    out = repo / "out"
    before = tree_bytes(out)
    copies = 0
    copy = shutil.copy2

    def interrupted(source: Path, target: Path) -> object:
        nonlocal copies
        copies += 1
        if copies == 5:
            raise KeyboardInterrupt
        return copy(source, target)

    monkeypatch.setattr(update_module.shutil, "copy2", interrupted)
    spec = load_spec(SPECS / "v2.yaml")
    with pytest.raises(KeyboardInterrupt):
        update_module.update(out, spec, build_plan(spec))
    monkeypatch.undo()
    assert copies == 5
    assert tree_bytes(out) == before
    assert git(repo, "status", "--porcelain") == ""


def test_an_ignored_output_folder_is_refused(repo: Path) -> None:
    git(repo, "rm", "-r", "-q", "--cached", "out")
    (repo / ".gitignore").write_text("out/\n", encoding="utf-8")
    commit_all(repo, "ignore the output")
    result = scaffold("update", str(repo / "out"), "--spec", str(SPECS / "v2.yaml"))
    assert result.exit_code == 2, result.output
    assert "is not committed in the git repository" in result.output


def test_a_new_service_is_generated_and_a_removed_one_kept(repo: Path, tmp_path: Path) -> None:
    out = repo / "out"
    grown = tmp_path / "grown.yaml"
    grown.write_text(
        (SPECS / "v1.yaml")
        .read_text(encoding="utf-8")
        .replace("  user-service: {}\n", "  user-service: {}\n  audit-service: {}\n"),
        encoding="utf-8",
    )
    result = scaffold("update", str(out), "--spec", str(grown))
    assert result.exit_code == 0, result.output
    assert "add audit-service: new in the spec" in result.output
    assert (out / "audit-service" / "src" / "audit_service" / "handlers.py").is_file()
    assert "audit-service" in (out / "Makefile").read_text(encoding="utf-8")
    commit_all(repo, "a new service")
    result = scaffold("update", str(out), "--spec", str(SPECS / "v1.yaml"))
    assert result.exit_code == 0, result.output
    assert "kept audit-service: no longer in the spec" in result.output
    assert (out / "audit-service" / "pyproject.toml").is_file()
    assert "audit-service/pyproject.toml" in (out / ".scaffold-generated").read_text(encoding="utf-8")
