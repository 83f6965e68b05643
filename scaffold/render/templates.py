"""Where scaffold's templates are: package data of the `scaffold` package.

In a checkout `scaffold/templates` is a link to the top-level `templates/` folder (the source); a
built wheel carries a copy. Every caller finds templates through :func:`template_dir`, so an
installed scaffold never looks for them next to a checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from scaffold.errors import ScaffoldError


class TemplatesMissing(ScaffoldError):
    """The installation of scaffold has no templates: it was built or installed incompletely."""


def template_dir(name: str) -> Path:
    """The folder of one template set (`service`, `system`, `proto`) as a real path on disk."""
    packaged = resources.files("scaffold") / "templates" / name
    # copier and Jinja's loader read folders from disk; an installation from a zip archive has none.
    if not isinstance(packaged, Path) or not packaged.is_dir():
        raise TemplatesMissing(
            f"scaffold's `{name}` templates are missing from its installation (looked for {packaged}); "
            "reinstall it from its wheel or its source folder: pip install --force-reinstall scaffold-services"
        )
    return packaged.resolve()
