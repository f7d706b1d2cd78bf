"""The committed SDL is what clients code against: it must match the code."""

from enum import Enum
from pathlib import Path

import strawberry

from schema import schema

SDL = Path(__file__).parent.parent / "schema.graphql"


def test_committed_schema_graphql_matches_the_code():
    assert SDL.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema.graphql is stale: run `pasar export-schema` and commit it"
    )


def undescribed(gql_schema) -> list[str]:
    """Types, fields and enum values without a description."""
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

    missing = []
    for name, t in gql_schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not t.description:
            missing.append(name)
        if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            missing += [f"{name}.{f}" for f, d in t.fields.items() if not d.description]
        if isinstance(t, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, d in t.values.items() if not d.description]
    return missing


def test_every_type_field_and_enum_value_has_a_description():
    assert undescribed(schema._schema) == []


@strawberry.enum(description="Described.")
class _Colour(Enum):
    RED = strawberry.enum_value("red", description="Described.")
    BLUE = "blue"  # not described


@strawberry.type(description="Described.")
class _Query:
    colour: _Colour = strawberry.field(default=_Colour.RED, description="Described.")


def test_the_description_check_sees_enum_values():
    assert undescribed(strawberry.Schema(query=_Query)._schema) == ["_Colour.BLUE"]


def test_money_fields_use_the_rupiah_scalar():
    sdl = schema.as_str()
    for field in ("price: Rupiah!", "amount: Rupiah!"):
        assert field in sdl


def test_parser_and_validation_caches_are_on():
    from strawberry.extensions import ParserCache, ValidationCache

    made = [type(factory()) for factory in schema.extensions]
    assert ParserCache in made and ValidationCache in made


def test_leaf_fields_are_plain_not_async():
    """Per-item async resolvers cost about twice a plain attribute: only fields that load objects may be async."""
    import inspect

    from strawberry.types.base import StrawberryContainer
    from strawberry.types.lazy_type import LazyType

    def is_object(t) -> bool:
        while isinstance(t, StrawberryContainer):
            t = t.of_type
        if isinstance(t, LazyType):
            t = t.resolve_type()
        return hasattr(t, "__strawberry_definition__")

    offenders = []
    for type_def in schema.schema_converter.type_map.values():
        definition = type_def.definition
        if definition.name in ("Query", "Mutation"):
            continue
        for f in getattr(definition, "fields", []) or []:
            resolver = getattr(f, "base_resolver", None)
            if resolver is not None and inspect.iscoroutinefunction(resolver.wrapped_func) and not is_object(f.type):
                offenders.append(f"{definition.name}.{f.name}")
    # these do real, batched I/O: a COUNT per list (the under-sold list's with the buyer's filters), one GROUP BY per
    # page of UMKM
    expected = {"Connection.total_count", "UnderSoldUmkmConnection.total_count", "Umkm.rating_average"}
    assert set(offenders) == expected | {"Umkm.omzet_streak"}, offenders
