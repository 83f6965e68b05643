"""Render one service project from the `service` template with copier."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from scaffold.render.templates import template_dir


def render_service(service: dict[str, Any], destination: Path) -> None:
    """Render ``service`` (a slice from :func:`scaffold.plan.services.service_slices`) into ``destination``."""
    import copier

    template = str(template_dir("service"))
    with warnings.catch_warnings():
        # copier warns that a plain template folder has no VCS tags; versioned templates come with updates.
        warnings.simplefilter("ignore")
        copier.run_copy(
            template,
            str(destination),
            data={"service": service},
            defaults=True,
            overwrite=True,
            quiet=True,
            unsafe=False,
            # The bundled template is trusted, and only it: its one unsafe feature is the Jinja
            # extension of scaffold.render.filters. This also keeps a user's copier settings
            # (defaults, trust) out of generation, so output depends on the spec alone.
            settings=copier.Settings(defaults={}, trust=[template]),
        )
