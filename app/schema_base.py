"""The bases of the API's schemas: what clients send and what they get back.

Request bodies: a field the API does not know is an error, not silently dropped. A
client that sends `problem` for `problem_statement` must hear so (422 naming the
field) rather than get 201 with nothing stored. A field with a default may be left
out: its default is stated in words, not as a JSON Schema `default`, because
TypeScript generators (openapi-typescript) read `default` as "always present" and
would make clients send it.

Responses: every field the server always writes is `required` in the schema, defaults
included, so generated client types need no `undefined` checks.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, to_jsonable_python


def _describe_defaults(schema: JsonSchemaValue) -> None:
    for prop in schema.get("properties", {}).values():
        if "default" not in prop:
            continue
        default = prop.pop("default")
        if default not in (None, [], {}, ""):
            value = to_jsonable_python(default)
            note = f"Default: `{value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}`."
            prop["description"] = f"{prop['description']} {note}" if prop.get("description") else note


class InputModel(BaseModel):
    """What clients send: fields with defaults are optional in the generated client types."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        if handler.mode == "validation":
            _describe_defaults(handler.resolve_ref_schema(schema))
        return schema


class RequestModel(InputModel):
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ResponseModel(BaseModel):
    """What clients get back: every field is present, defaults included."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class NamedGeneric(BaseModel):
    """A generic response model whose parametrisations get names of their own (`OfferPage`, not
    `Page[OfferRead]`, which the OpenAPI document would spell `Page_OfferRead_`)."""

    _named: ClassVar[dict[Any, type[BaseModel]]] = {}

    def __class_getitem__(cls, params: Any) -> Any:
        parametrized = super().__class_getitem__(params)
        args = params if isinstance(params, tuple) else (params,)
        if any(isinstance(arg, TypeVar) for arg in args) or not isinstance(parametrized, type):
            return parametrized
        if parametrized not in NamedGeneric._named:
            name = parametrized.model_parametrized_name(args)
            NamedGeneric._named[parametrized] = type(name, (parametrized,), {"__module__": cls.__module__})
        return NamedGeneric._named[parametrized]
