"""The fairness simulation (docs/FAIRNESS.md, "Does it work?"), run by bench.fairness_sim.

- `bench.sim.world`: the seeded world and order stream (pure Python, no database).
- `bench.sim.market`: one (seed, policy) run against a fresh database through the real resolvers and SQL.
"""
