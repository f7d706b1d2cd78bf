"""The speed harness: our GraphQL server against a raw Starlette baseline and PostGraphile, side by side.

* `bench.harness.scenarios`: the query documents (ours, the peer's) and how their answers are compared;
* `bench.harness.baseline`: a minimal Starlette + asyncpg endpoint per scenario returning our JSON;
* `bench.harness.run`: starts the three servers pinned to one core, checks they agree, measures in rounds.
"""
