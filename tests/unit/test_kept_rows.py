"""The batch kernel's output rows are reused from chunk to chunk only once nothing reads them."""

from __future__ import annotations

import numpy as np

from sim.engines import batch
from sim.engines.kept_rows import KeptRows
from sim.engines.layout import FloatColumn, IntColumn
from sim.engines.parameters import draw_parameters
from sim.engines.records import SchemeRecords, flat_records
from sim.spec.loader import LoadedScenario


def test_rows_are_handed_out_again_only_once_no_view_of_them_is_left() -> None:
    kept = KeptRows()
    floats, ints = kept.take(100)
    assert floats.shape == (len(FloatColumn), 100)
    assert ints.shape == (len(IntColumn), 100)
    assert ints.dtype == np.int8
    view = floats[0, :10]  # as records view the rows
    read = id(floats)  # kept alive by the keeper, so the id stays its own
    del floats, ints
    other = kept.take(100)[0]
    assert not np.shares_memory(other, view)  # still read: new rows
    unread = id(other)
    del other
    again = kept.take(50)[0]
    assert id(again) == unread  # unread and large enough: reused
    del view, again
    freed = kept.take(100)[0]
    assert id(freed) == read  # its last view gone: reused too
    del freed
    grown = kept.take(1000)[0]
    assert grown.shape[1] >= 1000


def test_records_a_caller_keeps_are_not_overwritten_by_later_chunks(small: LoadedScenario) -> None:
    scenario = small.scenario
    engine = batch.BatchEngine()
    reps = np.arange(256)  # more than later: the later chunk's rows would fit in these
    first = engine.simulate(scenario, 1, reps, draw_parameters(scenario, 1, reps))
    before = {name: _copied(rec) for name, rec in first.items()}
    later = np.arange(512, 576)
    engine.simulate(scenario, 2, later, draw_parameters(scenario, 2, later))
    for name, rec in first.items():
        for got, want in zip(_copied(rec), before[name], strict=True):
            assert got.keys() == want.keys()
            for key, value in want.items():
                np.testing.assert_array_equal(got[key], value, strict=True)


def _copied(rec: SchemeRecords) -> list[dict[str, np.ndarray]]:
    """Copies of every column of each group of flat records."""
    return [{k: np.array(v, copy=True) for k, v in flat.columns.items()} for _, flat in flat_records(rec)]
