"""Importing existing .proto and OpenAPI contracts into operations and JSON Schema messages."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scaffold.errors import Problem, SpecInvalid
from scaffold.spec.contracts import ImportedContract, import_openapi, import_proto
from scaffold.spec.load import load_spec
from tests.json_refs import refs_in

FIXTURES = Path(__file__).parent / "fixtures" / "contracts"


def load_proto(name: str) -> ImportedContract:
    return import_proto(FIXTURES / name, f"contracts/{name}")


def load_openapi(name: str) -> ImportedContract:
    return import_openapi(FIXTURES / name, f"contracts/{name}")


def problems_of(call: Any, *args: Any) -> list[Problem]:
    with pytest.raises(SpecInvalid) as caught:
        call(*args)
    return caught.value.problems


@pytest.fixture(scope="module")
def orders() -> ImportedContract:
    return load_proto("orders.proto")


@pytest.fixture(scope="module")
def users() -> ImportedContract:
    return load_openapi("users.openapi.yaml")


@pytest.fixture(scope="module")
def catalog() -> ImportedContract:
    return load_openapi("catalog.openapi.json")


# --------------------------------------------------------------------------------------------
# .proto
# --------------------------------------------------------------------------------------------


def test_proto_operations_keep_source_order_and_call_kinds(orders: ImportedContract) -> None:
    ops = orders.operations
    assert list(ops) == ["GetOrder", "WatchOrders", "UploadItems", "Chat", "CancelOrder"]
    assert {name: op.streaming for name, op in ops.items()} == {
        "GetOrder": "none",
        "WatchOrders": "server",
        "UploadItems": "client",
        "Chat": "bidi",
        "CancelOrder": "none",
    }
    # NO_SIDE_EFFECTS and IDEMPOTENT both count; no option means not idempotent.
    assert [op.idempotent for op in ops.values()] == [True, False, False, False, True]
    assert all(op.transports == frozenset({"grpc"}) and op.http_method == "POST" for op in ops.values())
    assert ops["WatchOrders"].http_path == "/watch-orders"


def test_proto_operation_messages_and_comments(orders: ImportedContract) -> None:
    get = orders.operations["GetOrder"]
    assert (get.request, get.response, get.description) == ("GetOrderRequest", "Order", "Fetch one order.")
    assert orders.operations["UploadItems"].request == "LineItem"
    assert orders.operations["CancelOrder"].response == "Empty"
    assert (orders.proto_package, orders.proto_service) == ("shop.v1", "OrderService")


def test_proto_messages_are_top_level_ones_plus_used_imports(orders: ImportedContract) -> None:
    # Money (imported, used only by a field) stays in $defs; Empty is used by an rpc.
    assert list(orders.messages) == [
        "Category",
        "ChatMessage",
        "Empty",
        "GetOrderRequest",
        "LineItem",
        "Order",
        "UploadSummary",
        "WatchOrdersRequest",
    ]
    order = orders.messages["Order"]
    assert order.origin == "proto:contracts/orders.proto"
    assert order.description == "An order placed by a customer."
    assert orders.messages["Empty"].schema == {"type": "object", "properties": {}}


def test_proto_order_schema_shape(orders: ImportedContract) -> None:
    schema = orders.messages["Order"].schema
    props = schema["properties"]
    assert list(props) == [
        "orderId",
        "status",
        "items",
        "labels",
        "createdAt",
        "shipping",
        "signature",
        "gift",
    ]
    assert props["status"] == {
        "type": "string",
        "enum": ["ORDER_STATUS_UNSPECIFIED", "ORDER_STATUS_OPEN", "ORDER_STATUS_SHIPPED"],
    }
    assert props["items"] == {"type": "array", "items": {"$ref": "#/$defs/LineItem"}}
    assert props["labels"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert props["createdAt"] == {"type": "string", "format": "date-time"}
    assert props["shipping"] == {"$ref": "#/$defs/Shipping"}
    assert props["signature"] == {"type": "string", "contentEncoding": "base64"}
    assert props["gift"] == {"type": "boolean"}
    # Everything reachable, including the imported Money and the map value Category, sorted.
    assert list(schema["$defs"]) == ["Category", "LineItem", "Money", "Shipping"]
    assert schema["$defs"]["Money"]["properties"] == {
        "currencyCode": {"type": "string"},
        "units": {"type": "integer"},
        "nanos": {"type": "integer"},
    }
    assert schema["$defs"]["LineItem"]["properties"]["categories"] == {
        "type": "object",
        "additionalProperties": {"$ref": "#/$defs/Category"},
    }


def test_proto_recursive_message_refers_to_its_own_def(orders: ImportedContract) -> None:
    schema = orders.messages["Category"].schema
    assert schema["properties"]["children"] == {"type": "array", "items": {"$ref": "#/$defs/Category"}}
    assert list(schema["$defs"]) == ["Category"]


def test_proto_schema_accepts_a_real_order(orders: ImportedContract) -> None:
    order = {
        "orderId": "o-1",
        "status": "ORDER_STATUS_OPEN",
        "items": [{"sku": "A", "quantity": 2, "price": {"currencyCode": "EUR", "units": 3}}],
        "labels": {"channel": "web"},
        "shipping": {"carrier": "dhl", "trackingCodes": ["x"]},
    }
    validator = jsonschema.Draft202012Validator(orders.messages["Order"].schema)
    assert list(validator.iter_errors(order)) == []
    bad = {**order, "items": [{"sku": 1}]}
    assert [e.json_path for e in validator.iter_errors(bad)] == ["$.items[0].sku"]


def test_proto_nested_names_that_clash_are_qualified(tmp_path: Path) -> None:
    (tmp_path / "clash.proto").write_text(
        textwrap.dedent(
            """\
            syntax = "proto3";
            import "google/protobuf/wrappers.proto";
            message Order { message Item { string sku = 1; } repeated Item items = 1; }
            message Cart {
              message Item { int32 qty = 1; }
              repeated Item items = 1;
              google.protobuf.Int32Value limit = 2;
            }
            message Basket { Order order = 1; Cart cart = 2; }
            service Shop { rpc Fill(Basket) returns (Basket); }
            """
        )
    )
    contract = import_proto(tmp_path / "clash.proto", "clash.proto")
    basket = contract.messages["Basket"].schema
    assert list(basket["$defs"]) == ["Cart", "Cart.Item", "Order", "Order.Item"]
    assert basket["$defs"]["Order"]["properties"]["items"]["items"] == {"$ref": "#/$defs/Order.Item"}
    assert basket["$defs"]["Cart"]["properties"]["limit"] == {"type": ["integer", "null"]}
    assert contract.proto_package is None


def test_proto_syntax_error_names_file_and_line() -> None:
    [problem] = problems_of(import_proto, FIXTURES / "broken.proto", "contracts/broken.proto")
    # The `;` missing at the end of line 6 is noticed at the next token.
    assert (problem.file, problem.line, problem.column) == ("contracts/broken.proto", 7, 3)
    assert problem.message == 'protoc: Expected ";".'
    assert problem.hint


def test_proto_without_service_is_rejected() -> None:
    [problem] = problems_of(import_proto, FIXTURES / "no_service.proto", "contracts/no_service.proto")
    assert problem.message == "the file defines no service"
    assert problem.hint == "add a `service` with `rpc` methods"


def test_proto_names_must_be_pascal_case() -> None:
    problems = problems_of(import_proto, FIXTURES / "bad_names.proto", "contracts/bad_names.proto")
    assert [(p.line, p.message) for p in problems] == [
        (3, "message name `order_item` is not PascalCase"),
        (8, "rpc name `get_item` is not PascalCase"),
    ]
    assert all("PascalCase" in p.hint for p in problems)


def test_proto_missing_import_points_at_the_import() -> None:
    problems = problems_of(import_proto, FIXTURES / "missing_import.proto", "contracts/missing_import.proto")
    assert ("contracts/missing_import.proto", 3) in [(p.file, p.line) for p in problems]
    assert any("nowhere/else.proto" in p.message for p in problems)


def test_proto_missing_file(tmp_path: Path) -> None:
    [problem] = problems_of(import_proto, tmp_path / "gone.proto", "gone.proto")
    assert (problem.file, problem.message) == ("gone.proto", "file not found")


# --------------------------------------------------------------------------------------------
# OpenAPI
# --------------------------------------------------------------------------------------------


def test_openapi30_operations(users: ImportedContract) -> None:
    ops = users.operations
    assert [(op.name, op.http_method, op.http_path) for op in ops.values()] == [
        ("ListUsers", "GET", "/users"),
        ("CreateUser", "POST", "/users"),
        ("GetUser", "GET", "/users/{userId}"),
        ("RenameUser", "PATCH", "/users/{userId}"),
        ("DeleteUser", "DELETE", "/users/{userId}"),
    ]
    # PATCH is made idempotent by `x-idempotent: true`.
    assert [op.idempotent for op in ops.values()] == [True, False, True, True, True]
    assert all(op.streaming == "none" and op.transports == frozenset({"rest"}) for op in ops.values())
    assert ops["ListUsers"].description == "List users"
    assert ops["CreateUser"].description == "Register a new user."
    assert users.proto_package is None and users.proto_service is None


def test_openapi30_request_and_response_messages(users: ImportedContract) -> None:
    ops = users.operations
    assert (ops["ListUsers"].request, ops["ListUsers"].response) == (None, "ListUsersResponse")
    # Through components/requestBodies and components/responses.
    assert (ops["CreateUser"].request, ops["CreateUser"].response) == ("NewUser", "User")
    assert ops["GetUser"].response == "User"
    assert (ops["RenameUser"].request, ops["RenameUser"].response) == ("RenameUserRequest", "User")
    # The path parameter makes a request message of its own.
    assert (ops["DeleteUser"].request, ops["DeleteUser"].response) == ("DeleteUserRequest", None)
    assert (ops["DeleteUser"].status, ops["CreateUser"].status, ops["GetUser"].status) == (204, 201, 200)
    # Unused is not used by an operation; Address and Country only live in $defs.
    assert list(users.messages) == [
        "DeleteUserRequest",
        "GetUserRequest",
        "ListUsersResponse",
        "NewUser",
        "RenameUserRequest",
        "User",
    ]
    assert {m.origin for m in users.messages.values()} == {"openapi:contracts/users.openapi.yaml"}
    assert users.messages["User"].description == "A registered user."


def test_openapi30_schemas_are_self_contained_2020_12(users: ImportedContract) -> None:
    user = users.messages["User"].schema
    assert list(user["$defs"]) == ["Address", "Country"]
    assert user["properties"]["address"] == {"$ref": "#/$defs/Address"}
    assert user["$defs"]["Address"]["properties"]["country"] == {"$ref": "#/$defs/Country"}
    # 3.0's `nullable` and boolean `exclusiveMinimum` become their 2020-12 forms.
    assert user["properties"]["nickname"] == {"type": ["string", "null"]}
    assert user["properties"]["age"] == {"type": "integer", "exclusiveMinimum": 0}
    listing = users.messages["ListUsersResponse"].schema
    assert listing["type"] == "array" and listing["items"] == {"$ref": "#/$defs/User"}
    assert list(listing["$defs"]) == ["Address", "Country", "User"]
    # Path parameters and the body are properties of one request message.
    assert users.messages["RenameUserRequest"].schema == {
        "type": "object",
        "required": ["userId"],
        "properties": {
            "userId": {"type": "string", "format": "uuid"},
            "body": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "minLength": 1}},
            },
        },
    }
    rename = users.operations["RenameUser"]
    # OpenAPI bodies are optional unless `required: true`.
    assert (rename.body, rename.body_required) == ("body", False)
    assert [(p.name, p.location, p.field, p.required) for p in rename.params or ()] == [
        ("userId", "path", "userId", True)
    ]


def test_openapi31_json_operations(catalog: ImportedContract) -> None:
    ops = catalog.operations
    assert [(op.name, op.http_method, op.request, op.response) for op in ops.values()] == [
        ("GetCategory", "GET", "GetCategoryRequest", "Category"),
        ("PutCategory", "PUT", "PutCategoryRequest", None),  # an optional body
        ("Search", "POST", "SearchRequest", "SearchResponse"),  # 202 response
    ]
    # `x-idempotent: false` overrides PUT's default.
    assert [op.idempotent for op in ops.values()] == [True, False, False]
    assert ops["GetCategory"].description == "Fetch a category tree"


def test_openapi31_json_schemas(catalog: ImportedContract) -> None:
    assert list(catalog.messages) == [
        "Category",
        "GetCategoryRequest",
        "PutCategoryRequest",
        "SearchRequest",
        "SearchResponse",
    ]
    category = catalog.messages["Category"]
    assert category.description == "A product category"
    assert category.schema["properties"]["parent"] == {"oneOf": [{"$ref": "#/$defs/Category"}, {"type": "null"}]}
    assert list(category.schema["$defs"]) == ["Category"]
    search = catalog.messages["SearchRequest"].schema
    # An optional body is the `body` property of the request message.
    assert search["properties"]["body"]["properties"]["limit"] == {"type": "integer", "maximum": 1000}  # JSON `1e3`
    response = catalog.messages["SearchResponse"].schema
    assert response["properties"]["next"] == {"type": ["string", "null"]}
    assert response["properties"]["hits"] == {"type": "array", "items": {"$ref": "#/$defs/Category"}}
    assert list(response["$defs"]) == ["Category"]


@pytest.mark.parametrize("fixture", ["orders.proto", "users.openapi.yaml", "catalog.openapi.json"])
def test_every_schema_is_valid_and_self_contained(fixture: str) -> None:
    contract = load_proto(fixture) if fixture.endswith(".proto") else load_openapi(fixture)
    for message in contract.messages.values():
        schema = message.schema
        jsonschema.validators.validator_for(schema).check_schema(schema)
        for ref in refs_in(schema):
            assert ref.startswith("#/$defs/"), (message.name, ref)
            assert ref.removeprefix("#/$defs/") in schema["$defs"], (message.name, ref)


@pytest.mark.parametrize("fixture", ["orders.proto", "users.openapi.yaml", "catalog.openapi.json"])
def test_import_is_deterministic(fixture: str) -> None:
    def dump(contract: ImportedContract) -> str:
        return json.dumps(
            {
                "operations": [repr(op) for op in contract.operations.values()],
                "messages": {name: [m.description, m.schema] for name, m in contract.messages.items()},
            }
        )

    load = load_proto if fixture.endswith(".proto") else load_openapi
    assert dump(load(fixture)) == dump(load(fixture))


def test_swagger2_is_rejected() -> None:
    [problem] = problems_of(import_openapi, FIXTURES / "swagger2.yaml", "swagger2.yaml")
    assert (problem.line, problem.message) == (1, "Swagger 2.0 (OpenAPI 2) is not supported")
    assert "OpenAPI 3" in problem.hint


def test_document_without_openapi_key_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "plain.yaml").write_text("title: not an API\n")
    [problem] = problems_of(import_openapi, tmp_path / "plain.yaml", "plain.yaml")
    assert problem.message == "not an OpenAPI document: the `openapi` key is missing"


def warnings_of(contract: ImportedContract) -> list[tuple[int, str]]:
    return [(w.line, w.message) for w in contract.warnings]


def test_missing_operation_id_is_derived_from_method_and_path() -> None:
    contract = import_openapi(FIXTURES / "missing_operation_id.yaml", "missing.yaml")
    assert list(contract.operations) == ["ListOrders", "PostOrders"]
    assert contract.warnings == ()


def test_schema_names_are_made_pascal_case_and_mapped_back() -> None:
    contract = import_openapi(FIXTURES / "bad_schema_name.yaml", "bad.yaml")
    assert list(contract.messages["CreateOrderRequest"].schema["$defs"]) == ["OrderInput"]
    assert contract.renamed == {"OrderInput": "order_input"}


def test_external_ref_skips_only_its_operation() -> None:
    contract = import_openapi(FIXTURES / "external_ref.yaml", "external.yaml")
    [warning] = contract.warnings
    assert (warning.line, warning.column) == (11, 15)
    assert warning.message == (
        "external `$ref` to `./schemas/order.yaml#/Order` is not supported; the operation is skipped"
    )
    assert "bundle" in warning.hint
    assert contract.operations == {}
    assert contract.document is not None and contract.document["paths"] == {}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "api.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_path_level_ref_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        openapi: 3.1.0
        paths:
          /orders:
            $ref: "#/components/pathItems/Orders"
        """,
    )
    contract = import_openapi(path, "api.yaml")
    assert warnings_of(contract) == [(4, "path items with `$ref` are not supported; the path is skipped")]


def test_an_unsupported_operation_does_not_take_the_others_down(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        openapi: 3.0.0
        paths:
          /a:
            get:
              responses: {"200": {description: ok}}
          /b:
            post:
              operationId: makeB
              x-idempotent: "yes"
              responses: {"200": {description: ok}}
            put:
              operationId: putB
              requestBody:
                content:
                  application/json:
                    schema: {$ref: "#/components/schemas/Missing"}
          /upload:
            post:
              operationId: upload
              requestBody:
                required: true
                content:
                  multipart/form-data:
                    schema: {type: object}
              responses: {"200": {description: ok}}
        """,
    )
    contract = import_openapi(path, "api.yaml")
    assert list(contract.operations) == ["GetA", "MakeB"]
    assert warnings_of(contract) == [
        (9, "`x-idempotent` must be true or false; the method's default is used"),
        (
            16,
            "`$ref` to `#/components/schemas/Missing`: components/schemas has no `Missing`; the operation is skipped",
        ),
        (20, "the request body is not JSON (media types: `multipart/form-data`); the operation is skipped"),
    ]
    assert contract.document is not None
    assert {path: sorted(item) for path, item in contract.document["paths"].items()} == {
        "/a": ["get"],
        "/b": ["post"],
    }


def test_parameters_of_every_location_are_imported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        openapi: 3.0.3
        paths:
          /pet/{petId}:
            parameters:
              - {name: petId, in: path, required: true, schema: {type: integer, format: int64}}
            get:
              operationId: getPet
              parameters:
                - {name: tags, in: query, schema: {type: array, items: {type: string}}}
                - {name: X-Request-ID, in: header, required: true, schema: {type: string}}
                - {name: session, in: cookie, schema: {type: string}}
                - {name: filter, in: query, content: {application/json: {schema: {type: object}}}}
                - {name: Accept, in: header, schema: {type: string}}
                - {name: deep, in: query, style: deepObject, schema: {type: object}}
              responses: {"200": {description: ok}}
        """,
    )
    contract = import_openapi(path, "api.yaml")
    op = contract.operations["GetPet"]
    assert [(p.name, p.location, p.required, p.encoding) for p in op.params or ()] == [
        ("petId", "path", True, "plain"),
        ("filter", "query", False, "json"),
        ("tags", "query", False, "plain"),
        ("X-Request-ID", "header", True, "plain"),
        ("session", "cookie", False, "plain"),
    ]
    schema = contract.messages["GetPetRequest"].schema
    # int64 becomes bounds a validator enforces.
    assert schema["properties"]["petId"] == {
        "type": "integer",
        "format": "int64",
        "minimum": -(2**63),
        "maximum": 2**63 - 1,
    }
    assert schema["required"] == ["petId", "X-Request-ID"]
    assert [message for _, message in warnings_of(contract)] == [
        "header parameter `Accept` is ignored, as OpenAPI says",
        "parameter `deep` is not supported and is ignored: object values are not supported; "
        "send them as JSON with `content: application/json`",
    ]


def test_undeclared_path_placeholder_is_read_as_a_string(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        openapi: 3.1.0
        paths:
          /users/{userId}:
            delete:
              responses: {"204": {description: gone}}
        """,
    )
    contract = import_openapi(path, "api.yaml")
    [param] = contract.operations["DeleteUsersUserId"].params or ()
    assert (param.name, param.location, param.schema) == ("userId", "path", {"type": "string"})
    assert warnings_of(contract) == [(4, "path parameter `userId` is not declared; it is read as a string")]


def test_webhooks_and_security_schemes_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        openapi: 3.1.0
        webhooks:
          newPet:
            post:
              requestBody: {content: {application/json: {schema: {type: object}}}}
              responses: {"200": {description: ok}}
        components:
          securitySchemes:
            key: {type: apiKey, in: header, name: X-Key}
        """,
    )
    contract = import_openapi(path, "api.yaml")
    assert contract.operations == {}
    messages = [message for _, message in warnings_of(contract)]
    assert messages[0] == "the document has no paths: nothing to serve from it"
    assert messages[1].startswith("webhooks (newPet) are not generated")
    assert messages[2].startswith("security schemes (key) are served in the document but not enforced")


def test_inline_schema_name_does_not_shadow_a_component(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        openapi: 3.1.0
        paths:
          /orders:
            post:
              operationId: createOrder
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {type: object, properties: {id: {type: string}}}
        components:
          schemas:
            CreateOrderRequest: {type: object}
        """,
    )
    contract = import_openapi(path, "api.yaml")
    assert contract.operations["CreateOrder"].request == "CreateOrderRequest2"
    assert contract.warnings == ()


def test_a_schema_named_like_a_models_import_is_renamed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        openapi: 3.1.0
        paths:
          /fields:
            post:
              operationId: createField
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/Field'}
              responses:
                '200':
                  description: ok
                  content:
                    application/json:
                      schema: {$ref: '#/components/schemas/Enum'}
        components:
          schemas:
            Field: {type: object, properties: {name: {type: string}}}
            Enum: {type: string, enum: [a, b]}
        """,
    )
    contract = import_openapi(path, "api.yaml")
    assert (contract.operations["CreateField"].request, contract.operations["CreateField"].response) == (
        "FieldMessage",
        "EnumMessage",
    )
    assert contract.renamed == {"EnumMessage": "Enum", "FieldMessage": "Field"}


def test_a_ref_to_a_schema_outside_components_schemas_is_inlined(tmp_path: Path) -> None:
    # codat.io's accounting API refers to `#/components/parameters/companyId/schema` from its schemas.
    path = write(
        tmp_path,
        """\
        openapi: 3.1.0
        paths:
          /companies/{companyId}:
            parameters: [{$ref: '#/components/parameters/companyId'}]
            get:
              operationId: getCompany
              responses:
                '200':
                  description: ok
                  content:
                    application/json:
                      schema: {$ref: '#/components/schemas/Company'}
        components:
          parameters:
            companyId:
              name: companyId
              in: path
              required: true
              schema: {type: string, format: uuid}
          schemas:
            Company:
              type: object
              properties:
                id: {$ref: '#/components/parameters/companyId/schema', description: The company's id}
                loop: {$ref: '#/components/schemas/Company/properties/id'}
        """,
    )
    contract = import_openapi(path, "api.yaml")
    assert contract.warnings == ()
    properties = contract.messages["Company"].schema["properties"]
    assert properties["id"] == {"description": "The company's id", "allOf": [{"type": "string", "format": "uuid"}]}
    # Into a component: copied too (datamodel-code-generator resolves whole `$defs` entries only).
    assert properties["loop"] == properties["id"]


def test_a_local_ref_cycle_outside_components_skips_its_operation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        openapi: 3.1.0
        paths:
          /a:
            get:
              operationId: getA
              responses:
                '200':
                  description: ok
                  content:
                    application/json:
                      schema: {$ref: '#/x-shapes/a'}
          /b:
            get:
              operationId: getB
              responses: {'204': {description: none}}
        x-shapes:
          a: {type: object, properties: {next: {$ref: '#/x-shapes/a'}}}
        """,
    )
    contract = import_openapi(path, "api.yaml")
    assert list(contract.operations) == ["GetB"]
    [warning] = contract.warnings
    assert "refers to itself" in warning.message and warning.field.startswith("x-shapes.a")


def test_a_wildcard_response_is_read_as_json_unless_binary(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        openapi: 3.0.3
        paths:
          /info.0.json:
            get:
              operationId: getInfo
              responses:
                '200':
                  description: ok
                  content:
                    '*/*':
                      schema: {$ref: '#/components/schemas/Comic'}
          /download:
            get:
              operationId: download
              responses:
                '200':
                  description: ok
                  content:
                    '*/*':
                      schema: {type: string, format: binary}
        components:
          schemas:
            Comic: {type: object, properties: {num: {type: integer}}}
        """,
    )
    contract = import_openapi(path, "api.yaml")
    assert list(contract.operations) == ["GetInfo"]
    assert contract.operations["GetInfo"].response == "Comic"
    [warning] = contract.warnings
    assert "not JSON" in warning.message and warning.field.startswith("paths./download")


def test_patterns_the_models_cannot_compile_are_left_out_and_said_so(tmp_path: Path) -> None:
    # AWS's contracts: a lookaround (Python's `re` only) beside `\p{L}` (Rust's regex only) in one message.
    (tmp_path / "api.yaml").write_text(
        textwrap.dedent(
            """\
            openapi: 3.1.0
            paths:
              /tags:
                post:
                  operationId: tag
                  requestBody:
                    required: true
                    content: {application/json: {schema: {$ref: '#/components/schemas/Tag'}}}
                  responses: {'204': {description: done}}
            components:
              schemas:
                Tag:
                  type: object
                  properties:
                    host: {type: string, pattern: '^(?!-)[a-z0-9-]+$'}
                    label: {type: string, pattern: '^[\\p{L}\\p{N}]*$'}
                    code: {type: string, pattern: '^[A-Z]{2}$'}
            """
        )
    )
    (tmp_path / "spec.yaml").write_text(
        "version: 1\nname: t\nservices:\n  tag-service:\n    contracts: {openapi: api.yaml}\n"
    )
    spec = load_spec(tmp_path / "spec.yaml")
    properties = spec.messages["Tag"].schema["properties"]
    assert properties["host"]["pattern"] == "^(?!-)[a-z0-9-]+$" and properties["code"]["pattern"] == "^[A-Z]{2}$"
    assert "pattern" not in properties["label"]
    [warning] = [w for w in spec.warnings if "not enforced" in w.message]
    assert "^[\\p{L}\\p{N}]*$" in warning.message and "Tag" in warning.message
