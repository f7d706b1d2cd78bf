"""The committed SDL is what clients code against: it must match the code."""

from pathlib import Path

from schema import schema

SDL = Path(__file__).parent.parent / "schema.graphql"


def test_committed_schema_graphql_matches_the_code():
    assert SDL.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema.graphql is stale: run `pasar export-schema` and commit it"
    )


def test_every_type_and_field_has_a_description():
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

    missing = []
    for name, t in schema._schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not t.description:
            missing.append(name)
        if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            missing += [f"{name}.{f}" for f, d in t.fields.items() if not d.description]
        if isinstance(t, GraphQLEnumType):
            continue
    assert not missing, missing


def test_money_fields_use_the_rupiah_scalar():
    sdl = schema.as_str()
    for field in ("price: Rupiah!", "amount: Rupiah!"):
        assert field in sdl
