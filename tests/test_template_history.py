"""The service template's released versions: the shipped git history, the per-user cache copier renders
from, the version every service records, refusal of a service made by a newer scaffold, and copier
updating a generated service from one template version to the next."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import copier
import pytest
import yaml
from click.testing import CliRunner

from scaffold.cli import main
from scaffold.generate import recorded_template_version
from scaffold.render import history
from scaffold.render.templates import template_dir
from tests.generation import ROOT, SPECS, add_template_version, commit_all, generate_example, git, load_script

FIXTURE = ROOT / "tests" / "fixtures" / "template-history.json"


release = load_script("release_template")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME: an empty template cache."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


def test_released_versions_keep_their_trees() -> None:
    """Tags never move: every released version still has the tree recorded when it was released."""
    recorded = json.loads(FIXTURE.read_text(encoding="utf-8"))
    shipped = history.shipped_versions()
    assert list(recorded) == list(shipped), "every release records its tree in the fixture, and only releases do"
    bundle = template_dir("history") / "service.bundle"
    heads = subprocess.run(["git", "bundle", "list-heads", str(bundle)], capture_output=True, text=True, check=True)
    tags = {
        ref.removeprefix("refs/tags/"): commit for commit, ref in (line.split() for line in heads.stdout.splitlines())
    }
    assert tags == shipped


def test_released_trees_match_the_fixture(tmp_path: Path) -> None:
    recorded = json.loads(FIXTURE.read_text(encoding="utf-8"))
    git(tmp_path, "init", "-q")
    git(tmp_path, "fetch", "-q", str(template_dir("history") / "service.bundle"), "refs/tags/*:refs/tags/*")
    for version, tree in recorded.items():
        assert git(tmp_path, "rev-parse", f"refs/tags/{version}^{{tree}}") == tree, version


def test_the_history_rebuilds_byte_for_byte_and_its_newest_version_is_the_checked_in_template() -> None:
    assert release.check() == []


def test_a_release_adds_one_deterministic_commit_and_never_moves_a_tag(tmp_path: Path) -> None:
    template = tmp_path / "service"
    shutil.copytree(ROOT / "templates" / "service", template)
    (template / "NEW.md").write_text("a new file\n", encoding="utf-8")
    bundles = []
    for attempt in ("one", "two"):
        folder = tmp_path / attempt
        shutil.copytree(ROOT / "templates" / "history", folder / "history")
        shutil.copy2(FIXTURE, folder / "trees.json")
        commit = release.release("99.0.0", template=template, history=folder / "history", fixture=folder / "trees.json")
        bundles.append((folder / "history" / "service.bundle").read_bytes())
        assert release.check(template=template, history=folder / "history") == []
        trees = json.loads((folder / "trees.json").read_text(encoding="utf-8"))
        assert {k: v for k, v in trees.items() if k != "99.0.0"} == json.loads(FIXTURE.read_text(encoding="utf-8"))
        with pytest.raises(release.ReleaseError, match="already released"):
            release.release("99.0.0", template=template, history=folder / "history", fixture=folder / "trees.json")
        with pytest.raises(release.ReleaseError, match="not newer"):
            release.release("0.0.1", template=template, history=folder / "history", fixture=folder / "trees.json")
        with pytest.raises(release.ReleaseError, match="not changed"):
            release.release("99.0.1", template=template, history=folder / "history", fixture=folder / "trees.json")
    assert bundles[0] == bundles[1]
    repo = tmp_path / "check"
    git(repo.parent, "init", "-q", str(repo))
    git(repo, "fetch", "-q", str(tmp_path / "one" / "history" / "service.bundle"), "refs/tags/*:refs/tags/*")
    assert git(repo, "rev-parse", "99.0.0^") == history.shipped_versions()[history.template_version()]
    assert git(repo, "rev-parse", "99.0.0") == commit


def test_the_cache_is_filled_once_from_the_bundle(home: Path) -> None:
    assert history.ensure_cache() == "~/.cache/scaffold/templates/service"
    repo = home / ".cache" / "scaffold" / "templates" / "service"
    tags = git(repo, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/tags")
    assert dict(line.split() for line in tags.splitlines()) == history.shipped_versions()
    before = (repo / ".git").stat().st_mtime_ns
    history.ensure_cache()
    assert (repo / ".git").stat().st_mtime_ns == before


def test_a_moved_tag_in_the_cache_is_refused(home: Path) -> None:
    history.ensure_cache()
    repo = home / ".cache" / "scaffold" / "templates" / "service"
    version = history.template_version()
    tree = git(repo, "rev-parse", f"{version}^{{tree}}")
    other = git(repo, "commit-tree", tree, "-m", "moved")
    git(repo, "tag", "-f", version, other)
    with pytest.raises(history.TemplateHistoryError, match=f"holds template version {version} at commit {other}"):
        history.ensure_cache()


def test_generated_services_record_the_template_version_and_a_portable_source(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    generate_example("guide", out)
    for answers in sorted(out.glob("*/.copier-answers.yml")):
        data = yaml.safe_load(answers.read_text(encoding="utf-8"))
        assert data["_commit"] == history.template_version()
        assert data["_src_path"] == "~/.cache/scaffold/templates/service"


def test_regenerating_a_service_from_a_newer_template_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    generate_example("guide", out)
    service = sorted(p.parent for p in out.glob("*/.copier-answers.yml"))[0]
    answers = service / ".copier-answers.yml"
    answers.write_text(
        answers.read_text(encoding="utf-8").replace(f"_commit: {history.template_version()}", "_commit: 99.0.0"),
        encoding="utf-8",
    )
    assert recorded_template_version(service) == "99.0.0"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = CliRunner().invoke(main, ["generate", str(SPECS["guide"]), "-o", str(out), "--force"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "template version 99.0.0" in result.output
    assert f"newest template version is {history.template_version()}" in result.output
    assert "pip install --upgrade scaffold-services" in result.output
    assert "Traceback" not in result.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_copier_updates_a_service_to_the_next_template_version(home: Path, tmp_path: Path) -> None:
    """A user edit stays, the template's change lands, a change of the same lines is a reported conflict,
    and a service nobody edited updates with no conflict at all."""
    out = tmp_path / "out"
    generate_example("guide", out)
    template = tmp_path / "next"
    shutil.copytree(ROOT / "templates" / "service", template)
    readme = template / "README.md.jinja"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nSee the operations guide.\n", encoding="utf-8")
    pyproject = template / "pyproject.toml.jinja"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + "\n# Template 99.0.0\n", encoding="utf-8")
    add_template_version(template, "99.0.0")

    edited, untouched = out / "order-service", out / "user-service"
    for service in (edited, untouched):
        git(service, "init", "-q")
        commit_all(service, "generated")
    handlers = edited / "src" / "order_service" / "handlers.py"
    handlers.write_text(handlers.read_text(encoding="utf-8") + "\n# my handler notes\n", encoding="utf-8")
    (edited / "README.md").write_text(
        "My own opening line.\n\n" + (edited / "README.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    ours = (edited / "pyproject.toml").read_text(encoding="utf-8") + "\n# My own last line\n"
    (edited / "pyproject.toml").write_text(ours, encoding="utf-8")
    commit_all(edited, "my edits")

    for service in (edited, untouched):
        copier.run_update(
            str(service), vcs_ref="99.0.0", defaults=True, overwrite=True, unsafe=True, quiet=True, conflict="inline"
        )
        assert recorded_template_version(service) == "99.0.0"

    assert "# my handler notes" in handlers.read_text(encoding="utf-8")
    readme_text = (edited / "README.md").read_text(encoding="utf-8")
    assert "See the operations guide." in readme_text
    assert readme_text.startswith("My own opening line.\n")
    unmerged = git(edited, "ls-files", "-u")
    assert {line.split("\t")[1] for line in unmerged.splitlines()} == {"pyproject.toml"}
    merged = (edited / "pyproject.toml").read_text(encoding="utf-8")
    assert "<<<<<<<" in merged and "# My own last line" in merged and "# Template 99.0.0" in merged

    assert git(untouched, "ls-files", "-u") == ""
    assert not list(untouched.rglob("*.rej"))
    assert (untouched / "README.md").read_text(encoding="utf-8").endswith("See the operations guide.\n")
    changed = git(untouched, "status", "--porcelain").splitlines()
    assert sorted(line.split(maxsplit=1)[1] for line in changed) == [
        ".copier-answers.yml",
        "README.md",
        "pyproject.toml",
    ]

    commit_all(untouched, "updated")
    copier.run_update(
        str(untouched), vcs_ref="99.0.0", defaults=True, overwrite=True, unsafe=True, quiet=True, conflict="inline"
    )
    assert git(untouched, "status", "--porcelain") == "", "a second update changes nothing"
