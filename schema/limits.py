"""Limits on expensive documents: depth, aliases, tokens, cost (schema/cost.py); parser and validation caches."""

from __future__ import annotations

from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from schema.cost import QueryCost

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
CACHE_SIZE = 512

# The depth and alias rules are classes that Strawberry's limiters build in their constructors. ValidationCache keys
# its LRU cache on (schema, document, rules), so a limiter built per request makes a new rule class and a new key
# every time and the cache never hits. The classes are built here once and added to every request unchanged.
VALIDATION_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)


def limit_extensions() -> list:
    """Factories, not instances: a schema extension instance would share state across requests.

    The caches are module-level LRU caches inside Strawberry, so a fresh extension object per request still hits them
    (as long as the validation rules are the same classes every time: `VALIDATION_RULES`).
    """
    return [
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules(list(VALIDATION_RULES)),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        QueryCost,  # per request, in execution: its verdict depends on the variables (schema/cost.py)
    ]
