"""Protection against expensive documents: depth, aliases, tokens; plus parser and validation caches."""

from __future__ import annotations

from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000


def limit_extensions() -> list:
    """Factories, not instances: a schema extension instance would share state across requests.

    The caches are module-level LRU caches inside Strawberry, so a fresh extension object per request still hits them.
    """
    return [
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ]
