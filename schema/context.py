"""The per-request context: caller, clock, settings and DataLoaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from resolvers.common import ANONYMOUS, Clock, Principal, SystemClock


class Loaders:
    """DataLoaders made on first use and kept for the request: one `WHERE … IN (…)` per batch."""

    def __init__(self) -> None:
        self._loaders: dict[tuple, DataLoader] = {}

    def by_id(self, model: type[Model]) -> DataLoader[int, Any]:
        key = ("id", model)
        if key not in self._loaders:

            async def load(ids: list[int]) -> list[Any]:
                rows = {r.pk: r for r in await model.filter(pk__in=list(set(ids)))}
                return [rows.get(i) for i in ids]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def batch(self, name: str, load_fn) -> DataLoader:
        """A named loader over a rule's batch function (`ids -> results in the same order`)."""
        if name not in self._loaders:
            self._loaders[name] = DataLoader(load_fn=load_fn)
        return self._loaders[name]

    def many(self, model: type[Model], fk: str, order: tuple[str, ...] = ("id",)) -> DataLoader[int, list[Any]]:
        """Rows of `model` whose `fk` column equals each key, in `order`."""
        key = ("many", model, fk, order)
        if key not in self._loaders:

            async def load(ids: list[int]) -> list[list[Any]]:
                grouped: dict[int, list[Any]] = defaultdict(list)
                for r in await model.filter(**{f"{fk}__in": list(set(ids))}).order_by(*order):
                    grouped[getattr(r, fk)].append(r)
                return [grouped.get(i, []) for i in ids]

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]


async def load_as(loader: DataLoader, key: Any, convert: Callable[[Any], Any]) -> Any:
    """`convert(await loader.load(key))`: the fallback of a plain resolver whose object did not come with its parent."""
    return convert(await loader.load(key))


@dataclass
class Context:
    """What every resolver receives as `info.context`; also satisfies `resolvers.common.Ctx`."""

    settings: Any
    principal: Principal = ANONYMOUS
    clock: Clock = field(default_factory=SystemClock)
    request: Any = None
    response: Any = None
    request_id: str = ""
    raw_token: str | None = None
    connection_params: dict | None = None
    client_address: str = ""  # schema.client.client_address: the throttle counts by it
    admission: Any = None  # the process's schema.admission.CostGate: costly requests wait their turn
    language: str = "en"  # of the messages: schema.i18n.negotiate(Accept-Language)
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def loaders(self) -> Loaders:
        """Made on first use: most requests (one joined statement per list) never need one."""
        if self._loaders is None:
            self._loaders = Loaders()
        return self._loaders
