"""Render one service project from templates/service with copier."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
SERVICE_TEMPLATE = TEMPLATES / "service"


def render_service(service: dict[str, Any], destination: Path) -> None:
    """Render ``service`` (a slice from :func:`scaffold.plan.services.service_slices`) into ``destination``."""
    import copier

    with warnings.catch_warnings():
        # copier warns that a plain template folder has no VCS tags; versioned templates come with updates.
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(SERVICE_TEMPLATE),
            str(destination),
            data={"service": service},
            defaults=True,
            overwrite=True,
            quiet=True,
            unsafe=False,
        )
