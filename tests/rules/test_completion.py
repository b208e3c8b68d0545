"""R-COMPLETE: completion below completion_probability x band factor, else abandonment, on both engines."""

from __future__ import annotations

import numpy as np

from tests.rules.conftest import applicants, check, terms

NAN = np.nan


def test_the_band_factor_sets_the_chance_to_complete_and_abandonment_cuts_the_duration(simulate) -> None:
    # completion_probability 0.5; band factors 1, 0.5, 3 -> chances 0.5, 0.25, min(1.5, 1) = 1.
    # Awards at 1..5 (review 1 week), upgrades of 10 weeks (f4: 30), horizon 20:
    #   f0 band 0, u 0.25 < 0.5: completes at 1 + 10 = 11
    #   f1 band 0, u 0.75 >= 0.5: abandoned after (0.75 - 0.5) / 0.5 = 0.5 of 10: ends 2 + 5 = 7
    #   f2 band 1, u 0.625 >= 0.25: abandoned after (0.625 - 0.25) / 0.75 = 0.5: ends 3 + 5 = 8
    #   f3 band 2, u 0.99 < 1: completes at 4 + 10 = 14
    #   f4 band 0, u 0.25 < 0.5: would complete at 5 + 30 = 35 > 20: ongoing, no end
    # (The SimPy engine draws the abandoned fraction separately; it is given 0.5 here.)
    files = applicants(
        [0, 1, 2, 3, 4],
        band=[0, 0, 1, 2, 0],
        complete=[0.25, 0.75, 0.625, 0.99, 0.25],
        abandon_fraction=0.5,
        duration=[10, 10, 10, 10, 30],
    )
    factors = np.array([[1.0, 0.5, 3.0]])
    rec = simulate(files, terms(completion_probability=0.5, completion_factor=factors, horizon=20.0))
    check(
        "R-COMPLETE",
        rec,
        5,
        status=["AWARDED"] * 5,
        upgrade_start=[1, 2, 3, 4, 5],
        upgrade_end=[11, 7, 8, 14, NAN],
        completes=[True, False, False, True, True],
    )
