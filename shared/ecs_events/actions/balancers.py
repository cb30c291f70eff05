"""Every load balancer kind behind one ``Slb``-shaped object: CLB (``Slb``), ALB (``Alb``) and NLB (``Nlb``).

``find`` asks each kind and merges the views (memberships, budget-unit sizes, connection drain timeouts);
``set_weights``, ``remove`` and ``settled`` hand each membership to its kind (``Membership.kind``). The engine drains
through this object exactly as through a bare ``Slb``: the method names and arguments are the same.

A kind whose discovery fails fails ``find``: draining from some load balancers and not others would let an instance
be rebooted while one of them still sends it traffic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol, runtime_checkable

from ecs_events.actions.types import Membership, SlbView, Spent


class LoadBalancers(Protocol):
    """What draining needs of a load balancer API (``Slb``, ``Alb``, ``Nlb`` and ``Balancers`` all have it)."""

    def find(self, instance_id: str, spent: Spent | None = None) -> SlbView: ...
    def set_weights(self, memberships: Iterable[Membership], weight: int | None) -> None: ...
    def remove(self, memberships: Iterable[Membership]) -> None: ...


@runtime_checkable
class Settling(Protocol):
    """A kind whose changes are asynchronous (ALB, NLB)."""

    def settled(self, memberships: Iterable[Membership], weight: int | None) -> bool: ...


class UnknownKindError(ValueError):
    """A membership of a kind no configured load balancer API handles."""


class LazyKinds(Mapping[str, LoadBalancers]):
    """Kind name -> its actions, each built (and its module imported) the first time it is looked up: an event that
    drains nothing builds none, and an account that discovers only CLB never imports the ALB and NLB actions (FC
    cold start). Iterating names the kinds without building them."""

    def __init__(self, build: Mapping[str, Callable[[], LoadBalancers]]) -> None:
        self._build = dict(build)
        self._built: dict[str, LoadBalancers] = {}

    def __getitem__(self, kind: str) -> LoadBalancers:
        actions = self._built.get(kind)
        if actions is None:
            actions = self._built[kind] = self._build[kind]()
        return actions

    def __contains__(self, kind: object) -> bool:  # Mapping's own would build the kind
        return kind in self._build

    def __iter__(self) -> Iterator[str]:
        return iter(self._build)

    def __len__(self) -> int:
        return len(self._build)


class Balancers:
    """CLB, ALB and NLB as one: ``kinds`` maps ``Membership.kind`` (``clb``, ``alb``, ``nlb``) to its actions."""

    def __init__(self, kinds: Mapping[str, LoadBalancers], *, discover: Iterable[str] | None = None) -> None:
        """``discover``: the kinds ``find`` looks in (default all): an account without ALB or NLB saves their
        discovery calls on every drain. Restores and removals reach every kind whatever it says (an entry in the
        drain registry may be of a kind no longer discovered). ``LazyKinds`` keeps each kind unbuilt until used."""
        self.kinds: Mapping[str, LoadBalancers] = kinds if isinstance(kinds, LazyKinds) else dict(kinds)
        self.discover = [k for k in (discover if discover is not None else self.kinds) if k in self.kinds]

    def find(self, instance_id: str, spent: Spent | None = None) -> SlbView:
        """Every membership of ``instance_id`` on every kind; sizes and drain timeouts per budget unit. ``spent``
        (see ``Spent``): the first kind that finds a spent budget ends the discovery."""
        memberships: list[Membership] = []
        sizes: dict[str, int] = {}
        drain: dict[str, int] = {}
        for actions in (self.kinds[k] for k in self.discover):
            view = actions.find(instance_id, spent)
            if view.blocked:
                return view
            memberships.extend(view.memberships)
            sizes.update(view.lb_sizes)
            drain.update(view.drain_seconds)
        return SlbView(memberships=memberships, lb_sizes=sizes, drain_seconds=drain)

    def set_weights(self, memberships: Iterable[Membership], weight: int | None) -> None:
        for kind, members in self._by_kind(memberships).items():
            self.kinds[kind].set_weights(members, weight)

    def remove(self, memberships: Iterable[Membership]) -> None:
        for kind, members in self._by_kind(memberships).items():
            self.kinds[kind].remove(members)

    def settled(self, memberships: Iterable[Membership], weight: int | None) -> bool:
        """Whether every membership carries ``weight`` (None: its saved weight) for good. CLB changes are
        synchronous (settled once the call returned); ALB and NLB ask the group (``ServerGroups.settled``)."""
        for kind, members in self._by_kind(memberships).items():
            actions = self.kinds[kind]
            if isinstance(actions, Settling) and not actions.settled(members, weight):
                return False
        return True

    def _by_kind(self, memberships: Iterable[Membership]) -> dict[str, list[Membership]]:
        out: dict[str, list[Membership]] = defaultdict(list)
        for m in memberships:
            if m.kind not in self.kinds:
                known = ", ".join(sorted(self.kinds))
                raise UnknownKindError(f"load balancer kind {m.kind!r} of {m.key}: expected one of {known}")
            out[m.kind].append(m)
        return dict(out)
