"""Name conversions shared by the planner and the templates (pure, predictable)."""

from __future__ import annotations

import keyword
import re
import sys

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+")


def words(name: str) -> list[str]:
    """Split ``user-service``, ``user_service``, ``UserService`` or ``order.created`` into words."""
    return [w.lower() for w in _WORD.findall(name)]


def snake(name: str) -> str:
    """``CreateOrder`` -> ``create_order``; ``user-service`` -> ``user_service``."""
    return "_".join(words(name))


def kebab(name: str) -> str:
    return "-".join(words(name))


def pascal(name: str) -> str:
    """``user-service`` -> ``UserService``."""
    return "".join(w.capitalize() for w in words(name))


def dotted(name: str) -> str:
    """``OrderCreated`` -> ``order.created`` (default channel name of a message)."""
    return ".".join(words(name))


def python_identifier_problem(name: str) -> str | None:
    """Why the snake_case form of ``name`` cannot be a Python identifier, or None."""
    ident = snake(name)
    if not ident.isidentifier():
        return f"`{name}` becomes `{ident}`, which is not a Python identifier"
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident):
        return f"`{name}` becomes the Python keyword `{ident}`"
    return None


# Top-level modules a generated service imports besides the standard library (its dependencies in
# templates/service/pyproject.toml.jinja, and what they import), and its own `tests` package: a service
# package of one of these names would shadow it, and nothing would import.
GENERATED_IMPORTS = frozenset(
    {
        "aio_pika", "aiormq", "aiosqlite", "annotated_types", "anyio", "confluent_kafka", "fastapi", "google",
        "grpc", "grpc_health", "grpc_reflection", "grpc_tools", "h11", "httpcore", "httptools", "httpx",
        "hypothesis", "idna", "mypy", "pamqp", "psycopg", "pydantic", "pydantic_core", "pydantic_settings",
        "pytest", "ruff", "sniffio", "sqlalchemy", "standardwebhooks", "starlette", "tenacity", "tests",
        "typing_extensions", "uvicorn", "uvloop", "yarl", "multidict", "propcache", "src",
    }
)  # fmt: skip


def package_shadow_problem(name: str) -> str | None:
    """Why the package of a service called ``name`` would hide a module its code imports, or None."""
    package = snake(name)
    if package in sys.stdlib_module_names:
        return f"`{name}` becomes the package `{package}`, which would hide the standard library's `{package}`"
    if package in GENERATED_IMPORTS:
        return f"`{name}` becomes the package `{package}`, which would hide the `{package}` the service imports"
    return None


# Module-level names of the generated modules an operation's function sits beside (handlers.py, api.py,
# clients.py, grpc_server.py, messaging.py: their imports and helpers) and the builtins they use: an
# operation's function of one of these names gets a trailing underscore instead of replacing it.
MODULE_NAMES = frozenset(
    {
        "annotations", "asynccontextmanager", "asyncio", "channel_options", "context", "contextlib",
        "create_app", "dataclass", "decode", "encode_request", "envelope", "field", "get_openapi", "grpc",
        "handle", "handlers", "httpx", "json", "jsonable_encoder", "liveness", "logger", "logging",
        "message_to_model", "model_to_message", "models", "os", "pathlib", "pb_grpc", "problem", "random",
        "readiness", "reject_client_errors", "router", "serve", "service_config", "service_state",
        "start_server_at", "sys", "time", "typing", "uuid", "webhook_body",
        "any", "bool", "dict", "float", "frozenset", "int", "isinstance", "list", "min", "object", "open",
        "property", "set", "sorted", "str", "tuple", "type",
    }
)  # fmt: skip
# Names the generated models module imports (pydantic, typing, datetime, enum, uuid, decimal): a message
# class of one of these names is renamed by datamodel-code-generator, and `models.<name>` is then the import.
MODEL_IMPORTS = frozenset(
    {
        "Annotated", "Any", "AnyUrl", "AwareDatetime", "BaseModel", "ConfigDict", "Decimal", "EmailStr", "Enum",
        "Field", "IntEnum", "Literal", "Optional", "RootModel", "StrEnum", "UUID", "Union", "date", "datetime",
        "time", "timedelta",
        # Not an import: the name datamodel-code-generator gives its own root model (which scaffold
        # drops); a message of that name is renamed `ModelModel`.
        "Model",
    }
)  # fmt: skip


def function(name: str) -> str:
    """The Python function of operation ``name``: its snake_case form, with PEP 8's trailing underscore
    when that is a keyword or a name the generated modules already use (``List`` -> ``list_``)."""
    ident = snake(name)
    if ident in MODULE_NAMES or keyword.iskeyword(ident) or keyword.issoftkeyword(ident):
        return f"{ident}_"
    return ident


def message_name_problem(name: str) -> str | None:
    """Why a message called ``name`` cannot be a class of the generated models module, or None."""
    if name in MODEL_IMPORTS:
        return f"message `{name}` would be a model class named like the `{name}` the models module imports"
    return None
