"""``draws.parquet``: each replication's draw of every parameter the scenario gives as a distribution.

The draws are what scenario discovery (``schemesim discover``) explains an
outcome by. They are a function of the scenario, the seed and the replication
number (:func:`sim.engines.parameters.draw_parameters`), so they are drawn
again here rather than carried through the engines, in blocks, and streamed
to the file: memory stays flat however many replications a run has, and the
replication table (and its golden digest) is untouched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.engines.parameters import draw_parameters
from sim.spec.scenario import Scenario, uncertain_paths

__all__ = ["DRAWS_FILE", "uncertain_paths", "write_draws"]

#: The file of a run folder that holds the draws.
DRAWS_FILE = "draws.parquet"

#: Replications drawn at once.
BLOCK = 65_536


def write_draws(folder: Path, scenario: Scenario, seed: int, replications: int) -> list[str]:
    """Write ``folder/draws.parquet`` (``replication`` and one column per uncertain parameter);
    the file names written (none when no parameter is uncertain)."""
    paths = uncertain_paths(scenario)
    if not paths:
        return []
    schema = pa.schema([("replication", pa.int64())] + [(p, pa.float64()) for p in paths])
    with pq.ParquetWriter(Path(folder) / DRAWS_FILE, schema) as writer:
        for start in range(0, replications, BLOCK):
            reps = np.arange(start, min(start + BLOCK, replications), dtype=np.int64)
            draws = draw_parameters(scenario, seed, reps)
            columns = [pa.array(reps)] + [pa.array(draws[p]) for p in paths]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
    return [DRAWS_FILE]
