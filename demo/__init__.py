"""Believable Surabaya demo data for `pasar seed --demo` and `pasar serve --demo`: the tables it is drawn from
(`demo.tables`, also the source of `bench.dataset`'s names and products) and the code that seeds an empty database
with them (`demo.seed`). It sits beside app.py, above the rules: it may use models/ and resolvers/, nothing uses it
but app.py and bench/.
"""

from demo.seed import DEMO_DOMAIN, DEMO_PASSWORD, database_is_empty, seed_demo

__all__ = ["DEMO_DOMAIN", "DEMO_PASSWORD", "database_is_empty", "seed_demo"]
