"""The outbox and inbox of generated services on a real PostgreSQL server: their own tests, run with
STORE_TEST_DATABASE_URL pointing at a database created for this run and dropped after it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.brokers import POSTGRES_URL, broker_address
from tests.generation import generate_example, run_tool


@pytest.fixture
def postgres_database() -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    server = broker_address(POSTGRES_URL)
    name = f"scaffold_store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_outbox_and_inbox_tests_pass_on_postgresql(postgres_database: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    generate_example("guide", out)
    for service, test in (
        ("order-service", "tests/generated/test_runtime_outbox.py"),
        ("notification-service", "tests/generated/test_runtime_inbox.py"),
    ):
        result = run_tool(
            out / service,
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "postgresql",
            test,
            env={"STORE_TEST_DATABASE_URL": postgres_database},
        )
        assert result.returncode == 0, f"{service}:\n{result.stdout}\n{result.stderr}"
        # Every PostgreSQL case ran: none was skipped or deselected by accident.
        assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout
