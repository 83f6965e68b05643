"""Many services rendered in one run, each exactly as a plain `copier copy` of the template renders it.

A plain copy clones the template's repository, compiles its Jinja templates, runs the template's task
(scaffold.render.finish) in a Python process of its own, formats each of the user's two files with two
ruff runs in a scratch project, and asks git about every file it writes. A run of scaffold renders its
services through one :class:`Renderer` instead:

- one clone of each template version, shared by every render (copier records the same `_src_path`
  and `_commit`: the repository and the version are the same);
- one Jinja environment per version, its compiled templates kept in the user's cache between runs;
  copier's render context and path strings made once per render;
- the models of a set of message schemas made once;
- copier's task skipped in each render and done for all of them by :meth:`Renderer.finish`: the
  contracts compiled and the generated Python checked service by service, then one ruff run over the
  generated code of every service and the user's files of every service, each in its scratch project
  as in a plain copy (ruff takes every file's settings from the pyproject.toml nearest to it);
- no git questions about files written into a new folder, which no git index holds yet.

`copier update` (:meth:`Renderer.update`) renders three times: the recorded version with the recorded
answers into a new folder, the new version over the project, and the new version into a new folder.
With :meth:`Renderer.serving_updates` the two into new folders are copies of renders made beforehand
for every service at once (:meth:`Renderer.remember`), and the one over the project is rendered as
above and finished at once; the rest of copier's update (its git work, the three-way merge) is copier's.

The files come out byte for byte as a plain `copier copy --trust` writes them, `.copier-answers.yml`
included, so `copier update` treats both alike; tests/test_batch_render.py compares the two.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from functools import cache, cached_property
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

import yaml

from scaffold.errors import GenerationFailed, Problem
from scaffold.postprocess.format import format_tree
from scaffold.render.finish import ANSWERS, compile_and_check
from scaffold.render.generated_code import BATCH, BatchRender
from scaffold.render.history import cache_repository


class Renderer:
    """Renders services into new folders, then finishes them all at once (:meth:`finish`); the folders
    are complete only after it. Use it as a context manager: leaving it removes the clones."""

    def __init__(self, source: str) -> None:
        self.source = source  # what scaffold.render.history.ensure_cache returned
        self._templates: dict[str, Any] = {}  # version -> copier's Template, cloned
        self._environments: dict[str, Any] = {}  # version -> copier's Jinja environment
        self._scratch = Path(tempfile.mkdtemp(prefix="scaffold-format-"))
        self._formatting = BatchRender(self._scratch)
        self._rendered: list[tuple[Path, str, int, int]] = []  # folder, spec file, its deferred files [from, to)
        self._copier_run_copy: Any = None  # copier's Worker.run_copy while serving updates
        self._finished: dict[str, Path] = {}  # (template, version, answers) -> a finished render of them

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for template in self._templates.values():
            template._cleanup()
        self._templates.clear()
        self._environments.clear()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _template(self, version: str) -> Any:
        template = self._templates.get(version)
        if template is None:
            from copier._template import Template

            template = Template(url=self.source, ref=version)
            self._templates[version] = template
            _ = template.local_abspath  # the clone, once
        return template

    def _environment(self, version: str, worker: Any) -> Any:
        """copier's Jinja environment for ``version``, made once: it depends on the template alone.
        Templates made from strings (paths, mostly) are kept too, so that each is compiled once."""
        environment = self._environments.get(version)
        if environment is None:
            environment = worker.jinja_env
            environment.from_string = cache(environment.from_string)
            environment.bytecode_cache = _bytecode_cache(self._template(version).commit_hash)
            self._environments[version] = environment
        return environment

    def render(self, data: dict[str, Any], destination: Path, *, version: str, settings: Any) -> None:
        """copier's render of ``data`` (the answers) from the template ``version`` into ``destination``, a
        folder that does not exist yet, without the template's task (:meth:`finish` does it). A version
        whose task is another one renders as copier renders it, its task included."""
        if destination.exists() and any(destination.iterdir()):
            raise ValueError(f"{destination} is not a new folder")
        from copier._main import Worker  # imported on first use: it is slow to import
        from copier._settings import SettingsModel

        worker = _worker_class()(
            src_path=self.source,
            dst_path=destination,
            vcs_ref=version,
            data=data,
            defaults=True,
            overwrite=True,
            quiet=True,
            unsafe=False,
            settings=SettingsModel(defaults=settings.defaults, trust=settings.trust),  # as copier.run_copy does
        )
        worker.__dict__["_sync_git_index_executable_bit"] = _no_git_index
        with warnings.catch_warnings(), worker:
            warnings.simplefilter("ignore")
            self._run_copy(worker, version, self._copier_run_copy or Worker.run_copy)

    def _run_copy(self, worker: Any, version: str, run_copy: Any) -> None:
        """``run_copy`` (copier's) of ``worker`` with what this renderer keeps for ``version``, the task
        left to :meth:`finish` when it is scaffold's."""
        template = self._template(version)
        worker.__dict__["template"] = template  # copier's cached properties, filled in
        worker.__dict__["jinja_env"] = self._environment(version, worker)
        worker.__dict__["_render_context"] = _rendering_context(worker)
        worker.__dict__["_render_string"] = _rendered_strings(worker)
        if not _task_is_finish(template):
            run_copy(worker)
            return
        worker.skip_tasks = True
        first = len(self._formatting.files)
        token = BATCH.set(self._formatting)
        try:
            run_copy(worker)
        finally:
            BATCH.reset(token)
        self._rendered.append((Path(worker.dst_path), "", first, len(self._formatting.files)))

    def update(self, project: Path, data: dict[str, Any], *, version: str, settings: Any, unsafe: bool) -> None:
        """copier's ``run_update`` of the service at ``project`` to ``version`` with ``data`` (the answers),
        conflicts inline, from this renderer's clones; run it inside :meth:`serving_updates`."""
        from copier._settings import SettingsModel

        worker = _worker_class()(  # copier's copies of it (dataclasses.replace) are of its class too
            dst_path=project,
            data=data,
            vcs_ref=version,
            defaults=True,
            overwrite=True,
            quiet=True,
            unsafe=unsafe,
            conflict="inline",
            settings=SettingsModel(defaults=settings.defaults, trust=settings.trust),  # as copier.run_update does
        )
        last = worker.subproject.template  # the version the service records, as copier reads it
        if last is not None and last.url == self.source and isinstance(last.ref, str):
            worker.subproject.__dict__["template"] = self._template(last.ref)
            worker.__dict__["template"] = self._template(version)
            worker.__dict__["jinja_env"] = self._environment(version, worker)
        with worker:
            worker.run_update()

    def remember(self, data: dict[str, Any], version: str, folder: Path) -> None:
        """``folder`` holds the finished render of ``data`` from ``version``: copier's copies of the same
        answers during :meth:`serving_updates` are taken from it."""
        self._finished[_render_key(self.source, version, data)] = folder

    @contextmanager
    def serving_updates(self) -> Iterator[None]:
        """While active, the copies copier makes in ``run_update`` (the old version into a new folder, the
        new version over the project and into a new folder) are a finished render with the same answers
        (:meth:`remember`) when there is one, else rendered here and finished at once."""
        from copier._main import Worker

        run_copy = self._copier_run_copy = Worker.run_copy

        def served(worker: Any) -> None:
            self._serve(worker, run_copy)

        Worker.run_copy = served  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            Worker.run_copy = run_copy  # type: ignore[method-assign]
            self._copier_run_copy = None

    def _serve(self, worker: Any, run_copy: Any) -> None:
        destination = Path(worker.dst_path)
        version, source = worker.vcs_ref, worker.src_path
        if not source and worker.subproject.template is not None:
            source = worker.subproject.template.url  # what copier renders from when given no template
        if source != self.source or not isinstance(version, str):
            run_copy(worker)  # not scaffold's template as this renderer has it: copier's own way
            return
        new_folder = not destination.exists() or not any(destination.iterdir())
        done = self._finished.get(_render_key(source, version, worker.data))
        if done is not None and new_folder:
            shutil.copytree(done, destination, symlinks=True, dirs_exist_ok=True)
            return
        worker.__dict__["_sync_git_index_executable_bit"] = (
            _no_git_index if new_folder else _git_file_modes(worker._sync_git_index_executable_bit, destination)
        )
        pending = len(self._rendered)
        self._run_copy(worker, version, run_copy)
        if len(self._rendered) > pending:
            self.finish()

    def discard(self) -> None:
        """Forget the renders not finished yet (their folders stay as they are)."""
        self._rendered.clear()

    def finish(self) -> None:
        """What the template's task and the formatting of the user's files do, for every render so far."""
        if not self._rendered:
            return
        base = Path(os.path.commonpath([folder.parent for folder, *_ in self._rendered]))
        paths: list[str] = []
        for folder, _, _, _ in self._rendered:
            try:
                found = compile_and_check(folder)
            except GenerationFailed as failed:
                raise GenerationFailed([_in_folder(problem, folder) for problem in failed.problems]) from None
            except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
                message = f"cannot finish the render: {type(exc).__name__}: {exc}"
                raise GenerationFailed([Problem(file=f"{folder.name}/{ANSWERS}", message=message)]) from exc
            inside = folder.relative_to(base)
            paths += [(PurePosixPath(inside.as_posix()) / path).as_posix() for path in found]
        paths += [str(entry.file) for entry in self._formatting.files]
        format_tree(base, tuple(paths))
        for folder, _, first, last in self._rendered:
            for entry in self._formatting.files[first:last]:
                target = folder / entry.relative
                if not target.is_file():
                    continue
                text = target.read_text(encoding="utf-8")
                if entry.placeholder in text:
                    formatted = entry.file.read_text(encoding="utf-8")
                    target.write_text(text.replace(entry.placeholder, formatted), encoding="utf-8")
        self._rendered.clear()


def _in_folder(problem: Problem, folder: Path) -> Problem:
    """A problem named from the service's folder, named from the output folder."""
    if problem.file.startswith(("src/", "tests/")):
        return replace(problem, file=f"{folder.name}/{problem.file}")
    return problem


def _bytecode_cache(commit: str | None) -> Any:
    """Jinja's compiled templates of one template commit, kept in the user's cache between runs (Jinja
    compiles them again when a file's text differs from what it compiled). None without a commit or
    where the cache cannot be written."""
    import jinja2

    if not commit:
        return None
    folder = cache_repository().parent.parent / "jinja" / commit
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None

    class CompiledTemplates(jinja2.FileSystemBytecodeCache):
        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            # By name only: copier renders from a new clone, at a new path, every run.
            return hashlib.sha1(f"{commit}|{jinja2.__version__}|{name}".encode()).hexdigest()

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with suppress(OSError):  # a cache that cannot be written costs time, not the render
                super().dump_bytecode(bucket)

    return CompiledTemplates(str(folder))


@cache
def _worker_class() -> Any:
    """copier's Worker, its answers file's name worked out once (copier renders it again for every part
    of every path it renders)."""
    from copier._main import Worker

    class ScaffoldWorker(Worker):
        @cached_property
        def answers_relpath(self) -> Path:
            return super().answers_relpath

    return ScaffoldWorker


def _task_is_finish(template: Any) -> bool:
    """Whether the template's only task is scaffold's (scaffold.render.finish), which :meth:`Renderer.finish`
    does for many renders at once."""
    return [(task.cmd, task.condition, str(task.working_directory)) for task in template.tasks] == [
        (["{{ _copier_python }}", "-m", "scaffold.render.finish"], "true", ".")
    ]


def _render_key(source: str, version: str, data: dict[str, Any]) -> str:
    """What a render is made of: the template, its version and the answers (copier's own, the ones that
    start with `_`, left out: copier records them from the template)."""
    answers = {key: value for key, value in data.items() if not str(key).startswith("_")}
    return json.dumps([source, version, answers], sort_keys=True, default=str)


def _rendering_context(worker: Any) -> Any:
    """copier's ``_render_context``, made once for the render phase, in which the answers and the
    settings do not change (copier makes it anew for every path and every file it renders)."""
    from copier._types import LazyDict, Phase

    made = worker._render_context
    kept: dict[str, Any] = {}

    def context() -> dict[str, Any]:
        if Phase.current() != Phase.RENDER:
            return dict(made())
        if "render" not in kept:
            kept["render"] = made()
        # A copy, `_copier_conf` too: copier sets a key of it for one render of the answers file's name.
        return {**kept["render"], "_copier_conf": LazyDict(kept["render"]["_copier_conf"]._pending)}

    return context


def _rendered_strings(worker: Any) -> Any:
    """copier's ``_render_string``, each string rendered once in the render phase (copier renders every
    part of every path of the template, the same parts for many paths)."""
    from copier._types import Phase

    render = worker._render_string
    kept: dict[str, str] = {}

    def rendered(string: str, extra_context: dict[str, Any] | None = None) -> str:
        if extra_context or Phase.current() != Phase.RENDER:
            return str(render(string, extra_context=extra_context))
        if string not in kept:
            kept[string] = render(string)
        return kept[string]

    return rendered


def _git_file_modes(sync: Any, project: Path) -> Any:
    """copier's ``_sync_git_index_executable_bit`` for a render over a project in git, which does something
    only where git's `core.fileMode` is false: that setting read once, not for every file."""
    import subprocess

    found = subprocess.run(
        ["git", "config", "--type=bool", "--get", "core.fileMode"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    )
    if found.returncode != 0 or found.stdout.strip() != "false":
        return _no_git_index  # git takes the executable bits from the files, as copier leaves them
    return sync


def _no_git_index(dst_relpath: Path, src_mode: int) -> None:
    """None of a new folder's files is in a git index, so there is no executable bit to tell git about
    (copier asks git about each file it writes)."""
