"""Seeds at the edge, Generators inside: named random streams.

Every random number in a run comes from a ``numpy.random.Generator`` built from
``SeedSequence(seed, spawn_key=...)``. A stream is named by what it is for, so
that changing one part of a scenario leaves the draws of unrelated parts
untouched (common random numbers), and so that a replication's numbers do not
depend on how replications are split across workers:

* ``replication_stream(seed, rep, stage, key)``: the stream of one stage
  (population, uptake, ...) for one segment or scheme in one replication.
  ``spawn_key = (rep, stage, key)`` is the grandchild of
  ``SeedSequence(seed).spawn(...)[rep]``.
* ``parameter_stream(seed, path, block)``: the draws of one uncertain scenario
  parameter for a block of :data:`PARAMETER_BLOCK` replications.
* ``block_stream(seed, stage, key, block)``: the batch engine's stream for one
  stage of one segment (or scheme) over a block of replications.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = [
    "STAGES",
    "PARAMETER_BLOCK",
    "tag",
    "replication_stream",
    "replication_streams",
    "parameter_stream",
    "programme_stream",
    "programme_spawn_key",
    "block_seed",
    "block_key",
    "block_stream",
    "calibration_stream",
    "posterior_stream",
    "bootstrap_stream",
]

#: The stages that own a stream, in MODEL.md order.
#: ``reapplication`` (MODEL.md 3e) comes last, so the others keep their streams.
STAGES: tuple[str, ...] = (
    "population",
    "uptake",
    "vetting",
    "approval",
    "implementation",
    "impact",
    "reapplication",
)

#: Replications per block of parameter draws (fixed: changing it changes results).
PARAMETER_BLOCK = 1024

# First spawn-key element of non-replication streams; replication indices stay far below.
_PARAMETERS = 2**62
_BATCH = 2**62 + 1
_CALIBRATION = 2**62 + 2
_PROGRAMME = 2**62 + 3
_POSTERIOR = 2**62 + 4
_BOOTSTRAP = 2**62 + 16


def tag(name: str) -> int:
    """A stable integer for a name (segment, scheme or parameter path)."""
    return zlib.crc32(name.encode("utf-8"))


def _generator(seed: int, key: tuple[int, ...]) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def replication_stream(seed: int, rep: int, stage: str, key: str) -> np.random.Generator:
    """The stream for ``stage`` of segment or scheme ``key`` in replication ``rep``."""
    return _generator(seed, (rep, STAGES.index(stage), tag(key)))


def replication_streams(seed: int, rep: int, key: str) -> dict[str, np.random.Generator]:
    """All stage streams of ``key`` in replication ``rep``, by stage name."""
    return {stage: replication_stream(seed, rep, stage, key) for stage in STAGES}


def programme_stream(seed: int, rep: int, scheme: str) -> np.random.Generator:
    """The stream of the programmes run by ``scheme``'s operators in replication ``rep`` (MODEL.md 6b)."""
    return _generator(seed, programme_spawn_key(rep, scheme))


def programme_spawn_key(rep: int, scheme: str) -> tuple[int, int, int]:
    """The spawn key of :func:`programme_stream` (its generator is PCG64 from
    ``SeedSequence(seed, spawn_key=...)``; :mod:`sim.engines.programme_draws` seeds it compiled)."""
    return (_PROGRAMME, rep, tag(scheme))


def parameter_stream(seed: int, path: str, block: int) -> np.random.Generator:
    """The stream of parameter ``path`` for replications ``block*PARAMETER_BLOCK ...``."""
    return _generator(seed, (_PARAMETERS, tag(path), block))


def block_seed(seed: int, stage: str, key: str, block: int) -> np.random.SeedSequence:
    """The seed of the batch engine's streams for ``stage`` of ``key`` over one block of replications."""
    return np.random.SeedSequence(seed, spawn_key=block_key(stage, key, block))


def block_key(stage: str, key: str, block: int) -> tuple[int, int, int, int]:
    """The spawn key of :func:`block_seed`."""
    return (_BATCH, STAGES.index(stage), tag(key), block)


def block_stream(seed: int, stage: str, key: str, block: int) -> np.random.Generator:
    """The batch engine's stream for ``stage`` of ``key`` over one block of replications.

    Its bit generator is SFC64, the fastest numpy ships (a quarter faster than
    PCG64 for uniforms and normals): the batch engine draws in bulk, where the
    generator's speed sets the engine's.
    """
    return np.random.Generator(np.random.SFC64(block_seed(seed, stage, key, block)))


def calibration_stream(seed: int) -> np.random.Generator:
    """The stream that resamples a calibration's replications into its posterior sample."""
    return _generator(seed, (_CALIBRATION, tag("posterior")))


def posterior_stream(seed: int, block: int) -> np.random.Generator:
    """The stream that picks, for replications ``block*PARAMETER_BLOCK ...``, the rows of a
    scenario's posterior sample they take (:mod:`sim.engines.posterior`)."""
    return _generator(seed, (_POSTERIOR, tag("posterior rows"), block))


def bootstrap_stream(seed: int, name: str) -> np.random.Generator:
    """The stream that resamples replications for the bootstrap intervals of analysis ``name``
    (such as "value-of-information"), apart from every simulation stream."""
    return _generator(seed, (_BOOTSTRAP, tag(name)))
