"""Named, swappable rules of a run: distance providers, allocation modes and post-steps.

Each registry maps a name to a callable; a run picks rules by name or takes any callable
with the same signature (as pvlib's ModelChain picks its models). A new rule is one new
module that registers itself::

    from capacity.registry import DISTANCES

    @DISTANCES.register("road")
    def road_network(unit_xy, site_xy, radius): ...   # -> capacity.allocate.Arcs
"""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

F = TypeVar("F", bound=Callable)


class Registry(Generic[F]):
    """Name → callable, in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, F] = {}

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator: register ``fn`` under ``name`` (a later registration replaces it)."""
        def add(fn: F) -> F:
            self._items[name] = fn
            return fn
        return add

    def get(self, rule: str | F) -> F:
        """The callable registered as ``rule``, or ``rule`` itself when it is callable."""
        if callable(rule):
            return rule
        try:
            return self._items[rule]
        except KeyError:
            raise ValueError(f"unknown {self.kind} {rule!r} (registered: "
                             f"{', '.join(self._items) or 'none'})") from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items


#: ``f(unit_xy (U, 2), site_xy (S, 2), radius (U,)) -> Arcs`` — see capacity.distances.
DISTANCES: Registry = Registry("distance rule")
#: ``f(arcs, demand (U,), places (S,)) -> Allocation`` — see capacity.allocate.
ALLOCATORS: Registry = Registry("allocation mode")
#: ``f(state: RunState) -> None``, run after the tables — see capacity.criticality.
POST_STEPS: Registry = Registry("post-step")
