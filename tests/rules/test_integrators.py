"""R-INTEGRATORS: upgrades start at award, or FIFO on a finite pool of integrators, on both engines."""

from __future__ import annotations

from tests.rules.conftest import applicants, check, terms


def test_without_an_integrator_limit_upgrades_start_at_award(simulate) -> None:
    # Awards at 1, 2, 3 (review 1 week); upgrades of 10, 5, 5 weeks start at once and complete.
    files = applicants([0, 1, 2], duration=[10, 5, 5])
    rec = simulate(files, terms(integrators=None))
    check("R-INTEGRATORS", rec, 3, upgrade_start=[1, 2, 3], upgrade_end=[11, 7, 8])


def test_one_integrator_takes_upgrades_in_award_order(simulate) -> None:
    # One integrator. f0 awarded 1 runs 1-11; f1 awarded 2 waits until 11, runs 11-16;
    # f2 awarded 3 waits until 16, runs 16-21.
    files = applicants([0, 1, 2], duration=[10, 5, 5])
    rec = simulate(files, terms(integrators=1))
    check("R-INTEGRATORS", rec, 3, upgrade_start=[1, 11, 16], upgrade_end=[11, 16, 21])


def test_an_abandoned_upgrade_frees_its_integrator_when_abandoned(simulate) -> None:
    # Completion probability 0.5. f0's uniform 0.75 >= 0.5: abandoned after the fraction
    # (0.75 - 0.5) / (1 - 0.5) = 0.5 of its 10 weeks (the SimPy engine is given that fraction):
    # runs 1-6 and frees the integrator at 6; f1 (u = 0.25, completes) runs 6-11, f2 11-16.
    files = applicants([0, 1, 2], duration=[10, 5, 5], complete=[0.75, 0.25, 0.25], abandon_fraction=0.5)
    rec = simulate(files, terms(integrators=1, completion_probability=0.5))
    check(
        "R-INTEGRATORS",
        rec,
        3,
        upgrade_start=[1, 6, 11],
        upgrade_end=[6, 11, 16],
        completes=[False, True, True],
    )
