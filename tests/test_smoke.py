async def test_anonymous_sees_kecamatans(gql):
    data = await gql.ok("{ kecamatans { name kelurahans { name } } }")
    assert len(data["kecamatans"]) == 31
    assert sum(len(k["kelurahans"]) for k in data["kecamatans"]) == 153


async def test_world_builds(gql, world):
    data = await gql.ok("{ me { email role } }", token=world.tokens["buyer"])
    assert data["me"]["role"] == "OPD_BUYER"
