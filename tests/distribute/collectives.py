"""Run as ``mpirun -n N python collectives.py OUT``: each rank's collective results to OUT."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from neuroflow.distribute.collective import Collective


def rank_values(rank: int) -> list[np.ndarray]:
    """What each rank contributes (the test computes the expected sums from the same)."""
    rng = np.random.default_rng(rank)
    return [rng.normal(size=(37, 5)).astype(np.float32), np.asarray(rank + 1, np.int64),
            np.arange(6, dtype=np.float64).reshape(2, 3) * rank]


def main(out: Path) -> None:
    results = {}
    for threaded in (True, False):
        for pack in (0, 64):
            collective = Collective(60, bytes_per_pack=pack, threaded=threaded)
            for i, value in enumerate(rank_values(collective.rank)):
                results[f"sum_{threaded}_{pack}_{i}"] = collective.allreduce_sum(value)
                results[f"bcast_{threaded}_{pack}_{i}"] = collective.broadcast(value)
            collective.barrier()
    np.savez(out / f"collectives{collective.rank}.npz", **results)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
