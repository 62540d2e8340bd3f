"""Dependency order for columns (and, later, tables), with cycles reported as paths."""

from __future__ import annotations

from collections.abc import Mapping


def topological_order(dependencies: Mapping[str, frozenset[str] | set[str]]) -> list[str] | list[list[str]]:
    """Order names so each comes after what it depends on; ties keep the given order.

    Returns the order, or, when there are cycles, a list of cycles (each a path that ends where
    it starts). Dependencies on names not in the mapping are ignored (reported elsewhere).

    >>> topological_order({"total": {"qty", "price"}, "qty": set(), "price": set()})
    ['qty', 'price', 'total']
    >>> topological_order({"a": {"b"}, "b": {"a"}})
    [['a', 'b', 'a']]
    """
    names = list(dependencies)
    known = set(names)
    position = {name: index for index, name in enumerate(names)}
    waiting = {name: {dep for dep in dependencies[name] if dep in known} for name in names}
    # Kahn's algorithm in layers: a layer is every name whose last dependency was placed in the
    # layer before, in the given order. Same order as placing "all ready names" pass by pass,
    # without rescanning every name per pass (quadratic for a chain across a wide table).
    dependents: dict[str, list[str]] = {name: [] for name in names}
    missing = {}
    for name in names:
        missing[name] = len(waiting[name])
        for dep in waiting[name]:
            dependents[dep].append(name)
    layer = [name for name in names if missing[name] == 0]
    order: list[str] = []
    while layer:
        order.extend(layer)
        following = []
        for name in layer:
            for dependent in dependents[name]:
                missing[dependent] -= 1
                if missing[dependent] == 0:
                    following.append(dependent)
        layer = sorted(following, key=position.__getitem__)
    if len(order) < len(names):
        placed = set(order)
        return _cycles({name: deps for name, deps in waiting.items() if name not in placed})
    return order


def acyclic_order(dependencies: Mapping[str, frozenset[str] | set[str]]) -> list[str]:
    """`topological_order` of names known to have no cycles (the spec refuses them when it
    loads, the plan when it compiles), typed as the plain order it then is.

    >>> acyclic_order({"total": {"qty"}, "qty": set()})
    ['qty', 'total']
    """
    order = topological_order(dependencies)
    names = [name for name in order if isinstance(name, str)]
    if len(names) < len(order):
        raise ValueError(f"names depend on each other in a cycle, which was not refused before: {order}")
    return names


def _cycles(waiting: Mapping[str, set[str]]) -> list[list[str]]:
    """Distinct simple cycles among the names left unplaced (each found once)."""
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for start in waiting:
        path = _find_cycle(start, waiting)
        if path and frozenset(path) not in seen:
            seen.add(frozenset(path))
            cycles.append(path)
    return cycles


def _find_cycle(start: str, waiting: Mapping[str, set[str]]) -> list[str] | None:
    stack = [(start, [start])]
    visited: set[str] = set()
    while stack:
        name, path = stack.pop()
        for dep in sorted(waiting.get(name, ())):
            if dep == start:
                return path + [start]
            if dep not in visited and dep in waiting:
                visited.add(dep)
                stack.append((dep, path + [dep]))
    return None
