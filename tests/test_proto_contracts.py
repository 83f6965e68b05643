"""Imported .proto contracts: imports resolved the way protoc resolves them, nothing a contract's
text says can reach generated code, files of one name kept apart, distributions' files imported."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scaffold.errors import SpecInvalid
from scaffold.generate import generate
from scaffold.plan.engine import build_plan
from scaffold.postprocess.protos import ProtoCompileError, _check_stub
from scaffold.proto_files import layout, slug
from scaffold.spec.contracts import import_proto
from scaffold.spec.load import load_spec
from tests.generation import ROOT, generate_example
from tests.grpcurl import grpcurl, running_server

PROTOS = ROOT / "tests" / "fixtures" / "protos"
PUBLIC = PROTOS / "public"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("protos") / "out"
    generate_example("protos", out)
    return out


def _proto_dir(out: Path, service: str) -> Path:
    return out / service / "src" / service.replace("-", "_") / "generated" / "proto"


def _spec(folder: Path, services: str, interactions: str = "") -> Path:
    spec = folder / "spec.yaml"
    text = f"version: 1\nname: t\nservices:\n{textwrap.indent(textwrap.dedent(services), '  ')}"
    if interactions:
        text += f"interactions:\n{textwrap.indent(textwrap.dedent(interactions), '  ')}"
    spec.write_text(text, encoding="utf-8")
    return spec


_SERVICE = """
syntax = "proto3";
package t.v1;
{imports}
// {comment}
service Echo {{
  rpc Say(SayRequest) returns (SayReply);
}}
message SayRequest {{ string page_token = 1; }}
message SayReply {{ string next_page_token = 1; }}
"""


def _proto(path: Path, comment: str = "Echo.", imports: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_SERVICE.format(comment=comment, imports=imports), encoding="utf-8")
    return path


# --- what a contract says cannot reach generated code -------------------------------------------


def test_an_import_inside_a_comment_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.proto"
    secret.write_text("SECRET-CONTENT", encoding="utf-8")
    project = tmp_path / "project"
    _proto(project / "echo.proto", comment='import "../secret.proto";')
    spec = load_spec(_spec(project, "echo:\n  contracts: {proto: echo.proto}\n"))
    out = tmp_path / "out"
    generate(spec, build_plan(spec), out)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != secret]
    assert all(b"SECRET-CONTENT" not in p.read_bytes() for p in written)
    assert not (tmp_path / "out" / "echo" / "src" / "echo" / "generated" / "secret.proto").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project", "secret.proto"]


def test_an_import_leaving_the_include_roots_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.proto").write_text('syntax = "proto3";', encoding="utf-8")
    project = tmp_path / "project"
    _proto(project / "echo.proto", imports='import "../secret.proto";')
    with pytest.raises(SpecInvalid) as caught:
        import_proto(project / "echo.proto", "echo.proto")
    rendered = "\n".join(p.render() for p in caught.value.problems)
    assert '".." are not allowed' in rendered and "echo.proto:4:" in rendered


def test_a_symlink_out_of_the_include_root_is_refused(tmp_path: Path) -> None:
    outside = _proto(tmp_path / "elsewhere" / "dep.proto").read_text(encoding="utf-8")
    (tmp_path / "elsewhere" / "dep.proto").write_text(
        outside.replace("service Echo", "service Other").replace("package t.v1", "package dep.v1"), encoding="utf-8"
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "dep.proto").symlink_to(tmp_path / "elsewhere" / "dep.proto")
    _proto(project / "echo.proto", imports='import "dep.proto";')
    with pytest.raises(SpecInvalid) as caught:
        import_proto(project / "echo.proto", "echo.proto")
    assert "resolves outside its include root" in caught.value.problems[0].message


def test_only_protobuf_and_googleapis_files_come_from_installed_packages(tmp_path: Path) -> None:
    _proto(tmp_path / "echo.proto", imports='import "grpc_tools/_proto/google/protobuf/empty.proto";')
    with pytest.raises(SpecInvalid) as caught:
        import_proto(tmp_path / "echo.proto", "echo.proto")
    assert "in an installed package" in caught.value.problems[0].message


def test_comments_never_reach_the_grpc_stubs(generated: Path, tmp_path: Path) -> None:
    # The fixture's service comment closes a docstring and follows it with a line of code.
    stubs = sorted(_proto_dir(generated, "shop-service").glob("*.py"))
    assert stubs
    for stub in stubs:
        text = stub.read_text(encoding="utf-8")
        assert "__import__" not in text and "passwd" not in text, stub.name
        _check_stub(stub, text)  # parses, and holds only what protoc writes
    assert not Path("/tmp/scaffold-comment-ran").exists()


def test_the_stub_check_refuses_code_in_a_class_body(tmp_path: Path) -> None:
    hostile = textwrap.dedent(
        '''
        import grpc


        class EchoServicer(object):
            """Echo. """
            __import__("os").system("true")
            """"""
        '''
    )
    with pytest.raises(ProtoCompileError, match="unexpected code"):
        _check_stub(tmp_path / "echo_pb2_grpc.py", hostile)


# --- include folders and distributions' files ---------------------------------------------------


def test_include_folders_resolve_imports_of_a_public_contract() -> None:
    contract = import_proto(
        PUBLIC / "google" / "iam" / "credentials" / "v1" / "iamcredentials.proto", "iamcredentials.proto", [PUBLIC]
    )
    assert list(contract.operations) == ["GenerateAccessToken", "GenerateIdToken", "SignBlob", "SignJwt"]
    request = contract.messages["GenerateAccessTokenRequest"].schema["properties"]
    assert request["lifetime"] == {"type": "string", "format": "duration"}
    reply = contract.messages["GenerateAccessTokenResponse"].schema["properties"]
    assert set(reply) == {"accessToken", "expireTime"}
    assert reply["expireTime"] == {"type": "string", "format": "date-time"}


def test_without_the_include_folder_the_import_is_reported_where_it_is() -> None:
    with pytest.raises(SpecInvalid) as caught:
        import_proto(PUBLIC / "google" / "iam" / "credentials" / "v1" / "iamcredentials.proto", "iam.proto")
    located = [p for p in caught.value.problems if p.line]
    assert located and located[0].file == "iam.proto" and "proto_paths" in located[0].hint


@pytest.mark.parametrize("where", ["..", "/etc", "missing"])
def test_include_folders_stay_inside_the_spec_folder(tmp_path: Path, where: str) -> None:
    _proto(tmp_path / "echo.proto")
    spec = _spec(tmp_path, f"echo:\n  contracts: {{proto: echo.proto, proto_paths: ['{where}']}}\n")
    with pytest.raises(SpecInvalid) as caught:
        load_spec(spec)
    rendered = caught.value.problems[0].render()
    assert "proto_paths" in rendered and where in rendered


def test_a_wider_root_admits_include_folders_beside_the_spec(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    _proto(shared / "t" / "v1" / "common.proto")
    spec_dir = tmp_path / "system"
    spec_dir.mkdir()
    (spec_dir / "echo.proto").write_text(
        'syntax = "proto3";\npackage e.v1;\nimport "t/v1/common.proto";\n'
        "service Relay {\n  rpc Say(t.v1.SayRequest) returns (t.v1.SayReply);\n}\n",
        encoding="utf-8",
    )
    spec = _spec(spec_dir, "echo:\n  contracts: {proto: echo.proto, proto_paths: ['../shared']}\n")
    with pytest.raises(SpecInvalid) as caught:
        load_spec(spec)
    assert "--root" in caught.value.problems[0].hint
    assert set(load_spec(spec, root=tmp_path).endpoints["echo"].operations) == {"Say"}


def test_googleapis_files_are_imported_from_googleapis_common_protos(generated: Path) -> None:
    proto = _proto_dir(generated, "shop-service")
    assert not [p for p in proto.iterdir() if p.name.startswith("google")]
    assert "from google.api import annotations_pb2" in (proto / "proto_2shop_v2_ete_pb2.py").read_text(encoding="utf-8")
    pyproject = (generated / "shop-service" / "pyproject.toml").read_text(encoding="utf-8")
    assert '"googleapis-common-protos>=' in pyproject
    products = (generated / "products-service" / "pyproject.toml").read_text(encoding="utf-8")
    assert "googleapis-common-protos" not in products


def test_a_contract_that_defines_health_checking_is_reported_at_check(tmp_path: Path) -> None:
    shutil.copy(PUBLIC / "grpc-health-check" / "health.proto", tmp_path / "health.proto")
    with pytest.raises(SpecInvalid) as caught:
        load_spec(_spec(tmp_path, "health:\n  contracts: {proto: health.proto}\n"))
    problem = caught.value.problems[0]
    assert "grpc.health.v1" in problem.message and problem.line > 0


def test_an_imported_health_proto_uses_grpcio_health_checking(tmp_path: Path) -> None:
    shutil.copy(PUBLIC / "grpc-health-check" / "health.proto", tmp_path / "health.proto")
    (tmp_path / "probe.proto").write_text(
        'syntax = "proto3";\npackage probe.v1;\nimport "health.proto";\nservice Probe {\n'
        "  rpc Check(grpc.health.v1.HealthCheckRequest) returns (grpc.health.v1.HealthCheckResponse);\n}\n",
        encoding="utf-8",
    )
    contract = import_proto(tmp_path / "probe.proto", "probe.proto")
    found = layout({"probe": (contract.proto_descriptor, contract.proto_main)})
    assert [f.name for f in found.files] == ["probe.proto"]
    assert list(found.files[0].dependency) == ["grpc_health/v1/health.proto"]
    module, attr = found.types[".grpc.health.v1.HealthCheckRequest"]
    assert (module.package, module.name, attr) == ("grpc_health.v1", "health_pb2", "HealthCheckRequest")


def test_a_modified_copy_of_a_provided_package_is_reported(tmp_path: Path) -> None:
    text = (PUBLIC / "grpc-health-check" / "health.proto").read_text(encoding="utf-8")
    (tmp_path / "health.proto").write_text(text + "\nmessage Extra {}\n", encoding="utf-8")
    (tmp_path / "probe.proto").write_text(
        'syntax = "proto3";\npackage probe.v1;\nimport "health.proto";\n'
        "service Probe { rpc Check(grpc.health.v1.Extra) returns (grpc.health.v1.Extra); }\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecInvalid) as caught:
        import_proto(tmp_path / "probe.proto", "probe.proto")
    assert "Extra" in caught.value.problems[0].message


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orders.proto", "orders"),
        ("2Shop.V2-été.proto", "proto_2shop_v2_ete"),
        ("common/Money.v1.proto", "common_money_v1"),
        ("日本.proto", "contract"),
    ],
)
def test_module_names_are_identifiers(name: str, expected: str) -> None:
    assert slug(name) == expected
    assert f"{slug(name)}_pb2".isidentifier()


def test_two_contracts_with_one_file_name_stay_apart(generated: Path) -> None:
    proto = _proto_dir(generated, "gateway")
    assert {"products_service_catalog_pb2.py", "offers_service_catalog_pb2.py"} <= {p.name for p in proto.iterdir()}
    clients = ast.parse((generated / "gateway" / "src" / "gateway" / "generated" / "clients.py").read_text())
    stubs = {
        node.func.attr: node.func.value.id
        for node in ast.walk(clients)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.attr.endswith("Stub")
    }
    assert stubs == {
        "ProductCatalogStub": "products_service_catalog_pb2_grpc",
        "OfferCatalogStub": "offers_service_catalog_pb2_grpc",
        "ShopCatalogStub": "proto_2shop_v2_ete_pb2_grpc",
        "IAMCredentialsStub": "iamcredentials_pb2_grpc",
        "ByteStreamStub": "bytestream_pb2_grpc",
        "PublisherStub": "pubsub_pb2_grpc",
        "SubscriberStub": "pubsub_pb2_grpc",
    }


def test_one_file_imported_by_two_contracts_is_compiled_once(tmp_path: Path) -> None:
    shared = 'syntax = "proto3";\npackage shared.v1;\nmessage Money { int64 whole_units = 1; }\n'
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "money.proto").write_text(shared, encoding="utf-8")
        (tmp_path / name / "svc.proto").write_text(
            f'syntax = "proto3";\npackage {name}.v1;\nimport "money.proto";\n'
            f"service S{name} {{ rpc Get{name}(shared.v1.Money) returns (shared.v1.Money); }}\n",
            encoding="utf-8",
        )
    contracts = {n: import_proto(tmp_path / n / "svc.proto", f"{n}/svc.proto") for n in ("a", "b")}
    found = layout({n: (c.proto_descriptor, c.proto_main) for n, c in contracts.items()})
    assert [f.name for f in found.files] == ["a_svc.proto", "b_svc.proto", "money.proto"]


# --- a file of several services -------------------------------------------------------------------

PUBSUB_HANDLERS = """

# Echoing handlers of one Publisher and two Subscriber rpcs (the last definition of a name wins).


async def publish(request: models.PublishRequest, ctx: Context) -> models.PublishResponse:
    ids = [f"{request.topic}/{m.orderingKey}" for m in request.messages]
    return models.PublishResponse.model_validate({"messageIds": ids})


async def pull(request: models.PullRequest, ctx: Context) -> models.PullResponse:
    received = [{"ackId": f"{request.subscription}/{i}"} for i in range(request.maxMessages)]
    return models.PullResponse.model_validate({"receivedMessages": received})


async def streaming_pull(
    requests: AsyncIterator[models.StreamingPullRequest], ctx: Context
) -> AsyncIterator[models.StreamingPullResponse]:
    async for request in requests:
        yield models.StreamingPullResponse.model_validate({"receivedMessages": [{"ackId": request.subscription}]})
"""

PUBSUB_SERVER = """
import asyncio

from pubsub_service.generated.context import Context
from pubsub_service.generated.grpc_server import SERVICE_NAMES, serve


async def main() -> None:
    server, port = await serve(Context(), "127.0.0.1", 0)
    print(port, *SERVICE_NAMES, flush=True)
    await server.wait_for_termination()


asyncio.run(main())
"""

PUBSUB_CALLER = """
import asyncio
import json
from collections.abc import AsyncIterator

from gateway.generated import models
from gateway.generated.clients import PubsubServiceClient
from gateway.generated.settings import Settings


async def main() -> None:
    client = PubsubServiceClient(Settings())
    published = await client.publish(
        models.PublishRequest.model_validate({"topic": "t", "messages": [{"orderingKey": "a"}, {"orderingKey": "b"}]})
    )
    pulled = await client.pull(models.PullRequest.model_validate({"subscription": "s", "maxMessages": 2}))

    async def requests() -> AsyncIterator[models.StreamingPullRequest]:
        for name in ("s1", "s2"):
            yield models.StreamingPullRequest.model_validate({"subscription": name, "streamAckDeadlineSeconds": 10})

    streamed = [reply async for reply in client.streaming_pull(requests())]
    await client.aclose()
    print(json.dumps({
        "published": published.messageIds,
        "pulled": [m.ackId for m in pulled.receivedMessages],
        "streamed": [m.ackId for reply in streamed for m in reply.receivedMessages],
    }))


asyncio.run(main())
"""


def test_each_service_of_a_file_is_served_and_called_under_its_own_name(generated: Path, tmp_path: Path) -> None:
    server_dir, caller_dir = tmp_path / "pubsub-service", tmp_path / "gateway"
    shutil.copytree(generated / "pubsub-service", server_dir)
    shutil.copytree(generated / "gateway", caller_dir)
    handlers = server_dir / "src" / "pubsub_service" / "handlers.py"
    handlers.write_text(handlers.read_text(encoding="utf-8") + PUBSUB_HANDLERS, encoding="utf-8")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with running_server(server_dir, PUBSUB_SERVER) as (port, *served):
        assert served == ["google.pubsub.v1.Publisher", "google.pubsub.v1.Subscriber"]
        caller = subprocess.run(
            [sys.executable, "-c", PUBSUB_CALLER],
            cwd=caller_dir,
            env={**env, "PYTHONPATH": str(caller_dir / "src"), "GATEWAY_PUBSUB_SERVICE_TARGET": f"127.0.0.1:{port}"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert caller.returncode == 0, caller.stderr
        assert json.loads(caller.stdout) == {
            "published": ["t/a", "t/b"],
            "pulled": ["s/0", "s/1"],
            "streamed": ["s1", "s2"],
        }
        # The independent client's view: both services by reflection, answering by their full names.
        assert {"google.pubsub.v1.Publisher", "google.pubsub.v1.Subscriber"} <= set(
            grpcurl(f"127.0.0.1:{port}", "list")
        )
        data = {"subscription": "s", "max_messages": 1}
        assert grpcurl(f"127.0.0.1:{port}", "google.pubsub.v1.Subscriber/Pull", data=data) == [
            {"receivedMessages": [{"ackId": "s/0"}]}
        ]


def test_two_services_of_a_file_may_not_share_an_rpc_name(tmp_path: Path) -> None:
    proto = tmp_path / "two.proto"
    proto.write_text(
        'syntax = "proto3";\npackage t.v1;\nmessage M { string a = 1; }\n'
        "service A {\n  rpc Get(M) returns (M);\n}\nservice B {\n  rpc Get(M) returns (M);\n}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecInvalid) as caught:
        import_proto(proto, "two.proto")
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == ("two.proto", 8, "B.Get")
    assert "defined by two services" in problem.message


def test_a_message_named_like_a_models_import_is_renamed(tmp_path: Path) -> None:
    # Google's Firestore admin API has a message `Field`; the models module imports pydantic's `Field`.
    proto = tmp_path / "admin.proto"
    proto.write_text(
        'syntax = "proto3";\npackage t.v1;\n'
        "message Field { string name = 1; }\nmessage GetFieldRequest { string name = 1; }\n"
        "service Admin {\n  rpc GetField(GetFieldRequest) returns (Field);\n}\n",
        encoding="utf-8",
    )
    contract = import_proto(proto, "admin.proto")
    assert set(contract.messages) == {"FieldMessage", "GetFieldRequest"}
    assert contract.operations["GetField"].response == "FieldMessage"
    assert contract.proto_types == {"FieldMessage": ".t.v1.Field", "GetFieldRequest": ".t.v1.GetFieldRequest"}


def test_googleapis_stubs_are_type_checked(generated: Path) -> None:
    # googleapis-common-protos has .pyi stubs and no py.typed marker: mypy is told to read them.
    for service in ("gateway", "shop-service"):
        pyproject = (generated / service / "pyproject.toml").read_text(encoding="utf-8")
        assert 'module = ["google.api.*"]\nfollow_untyped_imports = true' in pyproject, service
