"""Dependency order for columns (and, later, tables), with cycles reported as paths."""

from __future__ import annotations

from typing import Mapping


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
    waiting = {name: {dep for dep in dependencies[name] if dep in known} for name in names}
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(names):
        ready = [name for name in names if name not in placed and waiting[name] <= placed]
        if not ready:
            return _cycles({name: deps for name, deps in waiting.items() if name not in placed})
        order.extend(ready)
        placed.update(ready)
    return order


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
