"""The CART cross-check of scenario discovery: a shallow classification tree on the same cases.

A tree (scikit-learn's ``DecisionTreeClassifier``) splits the inputs into
leaves; each leaf is a box. The leaf chosen by the same rule as PRIM's box
(largest coverage at the density target, or the best balance of coverage and
density) should restrict the same parameters to similar ranges: if it does
not, the box is less certain than it looks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CartLeaf", "best_leaf", "leaves"]

#: Depth of the tree: at most this many restrictions per leaf.
MAX_DEPTH = 3


@dataclass(frozen=True)
class CartLeaf:
    """One leaf of the tree: its bounds (parameter -> (low, high), open sides infinite), size and hits."""

    bounds: dict[str, tuple[float, float]]
    cases: int
    hits: int
    coverage: float
    density: float

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(self.bounds)


def leaves(x: pd.DataFrame, hit: np.ndarray, mass_min: float) -> list[CartLeaf]:
    """Every leaf of a tree of depth :data:`MAX_DEPTH` with at least ``mass_min`` of the cases each."""
    from sklearn.tree import DecisionTreeClassifier

    y = np.asarray(hit, dtype=bool)
    n = len(y)
    tree = DecisionTreeClassifier(
        max_depth=MAX_DEPTH, min_samples_leaf=max(1, int(np.ceil(mass_min * n))), random_state=0
    )
    tree.fit(x.to_numpy(dtype=float), y)
    node_of = tree.apply(x.to_numpy(dtype=float))
    total = max(int(y.sum()), 1)
    out = []
    for node, bounds in _paths(tree.tree_, list(x.columns)).items():
        inside = node_of == node
        k = int(y[inside].sum())
        size = int(inside.sum())
        out.append(CartLeaf(bounds, size, k, k / total, k / size if size else 0.0))
    return out


def _paths(tree: object, names: list[str]) -> dict[int, dict[str, tuple[float, float]]]:
    """Leaf node -> the bounds its path sets (sklearn: left is ``x <= threshold``)."""
    left, right = tree.children_left, tree.children_right  # type: ignore[attr-defined]
    feature, threshold = tree.feature, tree.threshold  # type: ignore[attr-defined]
    out: dict[int, dict[str, tuple[float, float]]] = {}
    stack: list[tuple[int, dict[str, tuple[float, float]]]] = [(0, {})]
    while stack:
        node, bounds = stack.pop()
        if left[node] == right[node]:  # a leaf
            out[node] = bounds
            continue
        name, cut = names[int(feature[node])], float(threshold[node])
        low, high = bounds.get(name, (-np.inf, np.inf))
        stack.append((int(left[node]), {**bounds, name: (low, min(high, cut))}))
        stack.append((int(right[node]), {**bounds, name: (max(low, cut), high)}))
    return out


def best_leaf(all_leaves: list[CartLeaf], density: float | None) -> CartLeaf | None:
    """The leaf chosen by PRIM's rule (see :func:`sim.experiments.discover.choose_box`), or None."""
    found = [leaf for leaf in all_leaves if leaf.bounds and leaf.hits]
    if not found:
        return None
    cov = np.array([leaf.coverage for leaf in found])
    den = np.array([leaf.density for leaf in found])
    if density is not None and (den >= density).any():
        score = np.where(den >= density, cov + 1e-9 * den, -np.inf)
    elif density is not None:
        score = den
    else:
        score = 2 * cov * den / np.maximum(cov + den, 1e-300)
    return found[int(np.argmax(score))]
