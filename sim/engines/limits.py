"""Under-subscription: its threshold and its one definition (MODEL.md "Which limit binds").

Kept apart from :mod:`sim.engines.metrics` (which compiles loops) so the
command line can name the default threshold without importing numba.
"""

from __future__ import annotations

import numpy as np

__all__ = ["UNDERSUBSCRIBED_BELOW", "undersubscribed"]

#: Default threshold of :func:`undersubscribed`: a scheme committing less than this share of its
#: budget by the horizon is under-subscribed (scenario-independent; tables and ``run`` take another).
UNDERSUBSCRIBED_BELOW = 0.5


def undersubscribed(
    applications_below_places: np.ndarray,
    unused_budget_share: np.ndarray,
    below: float = UNDERSUBSCRIBED_BELOW,
) -> np.ndarray:
    """1 where a scheme is under-subscribed, 0 where not, NaN where undefined (a segment's row).

    Under-subscribed: fewer applications than places, or less than ``below``
    of the budget committed by the horizon.
    """
    short = (applications_below_places > 0) | (1.0 - unused_budget_share < below)
    return np.where(np.isnan(unused_budget_share), np.nan, short.astype(float))
