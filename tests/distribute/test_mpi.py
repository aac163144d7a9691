"""Training over MPI: ``mpirun -n N`` runs of ``worker.py``, compared with one process.

Skipped where mpi4py or mpirun is missing (the ``mpi`` extra installs both).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")

WORKER = Path(__file__).with_name("worker.py")


def _mpirun() -> str:
    beside = Path(sys.executable).with_name("mpirun")
    found = str(beside) if beside.exists() else shutil.which("mpirun")
    if found is None:
        pytest.skip("mpirun is not installed (pip install 'neuroflow[mpi]')")
    return found


def _environment() -> dict:
    env = dict(os.environ)
    # More workers than cores: a worker waiting in MPI must yield its core to the others.
    env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def run_workers(count: int, mode: str, out: Path, timeout: float = 120):
    """``mpirun -n count worker.py mode out`` (count 0: plain python, no MPI)."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(WORKER), mode, str(out)]
    if count:
        command = [_mpirun(), "--oversubscribe", "-n", str(count)] + command
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=_environment())
    return done, time.monotonic() - start


def results(out: Path, rank: int = 0) -> dict:
    with np.load(out / f"rank{rank}.npz") as arrays:
        return dict(arrays)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    done, _ = run_workers(0, "single", out)
    assert done.returncode == 0, done.stderr[-3000:]
    return results(out)


def _weights(result: dict) -> list:
    return [result[k] for k in sorted(result) if k.startswith("weight")]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    out = tmp_path_factory.mktemp("two")
    done, _ = run_workers(2, "fit", out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.parametrize("count", [1, 2, pytest.param(4, marks=pytest.mark.slow)])
def test_workers_reach_the_weights_of_one_process(count, single, two_workers, tmp_path):
    out = two_workers
    if count != 2:
        out = tmp_path
        done, _ = run_workers(count, "fit", out)
        assert done.returncode == 0, done.stderr[-3000:]
    ranks = [results(out, r) for r in range(count)]
    for other in ranks[1:]:  # the replicas stay bitwise identical
        for a, b in zip(_weights(ranks[0]), _weights(other)):
            np.testing.assert_array_equal(a, b)
    for mine, reference in zip(_weights(ranks[0]), _weights(single)):
        if count == 1:  # the same arithmetic as one process without a strategy
            np.testing.assert_array_equal(mine, reference)
        else:  # the same math, summed in another order
            np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)
    # Logged metrics are over the whole data, as one process logs them.
    # evaluate before fit too: worker 0's initial weights, sent to workers seeded otherwise.
    for key in ("history_loss", "history_val_loss", "history_accuracy", "evaluate",
                "evaluate_before_fit"):
        np.testing.assert_allclose(ranks[0][key], single[key], rtol=1e-5, atol=1e-6)


def test_custom_loop_collectives_and_datasets(two_workers):
    base = np.arange(6, dtype=np.float32).reshape(2, 3)
    per_rank = [base * (rank + 1) for rank in range(2)]
    numbers = np.arange(20, dtype=np.float32)
    batches = [numbers[i:i + 8] for i in range(0, 20, 8)]
    for rank in range(2):
        got = results(two_workers, rank)
        np.testing.assert_allclose(got["sum"], sum(per_rank))
        np.testing.assert_allclose(got["mean_axis"],
                                   np.concatenate(per_rank).sum(axis=0) / 4)
        np.testing.assert_allclose(got["replica_a"], sum(per_rank) / 2)
        np.testing.assert_allclose(got["replica_b"], 0.5)
        mine = np.concatenate([np.array_split(b, 2)[rank] for b in batches])
        np.testing.assert_array_equal(got["rows"], mine)
        np.testing.assert_array_equal(got["from_function"], np.arange(16)[rank::2])
        refused = list(got["refused"])
        assert len(refused) == 2
        assert "train_on_batch is not supported" in refused[0]
        assert "custom train_step cannot run" in refused[1]


def test_fit_is_bitwise_repeatable(two_workers, tmp_path):
    done, _ = run_workers(2, "fit", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    for a, b in zip(_weights(results(two_workers)), _weights(results(tmp_path))):
        np.testing.assert_array_equal(a, b)


def test_a_killed_worker_ends_the_job(tmp_path):
    done, seconds = run_workers(2, "kill", tmp_path, timeout=90)
    assert done.returncode != 0
    assert "rank 1" in done.stdout + done.stderr
    assert seconds < 60


def test_a_stuck_worker_ends_the_job_after_the_timeout(tmp_path):
    done, seconds = run_workers(2, "hang", tmp_path, timeout=90)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "worker rank 1 stopped answering" in output, output[-3000:]
    assert "timeout_seconds" in output
    assert seconds < 60


@pytest.mark.slow  # three jobs, about 25 s on two cores
def test_backup_and_restore_resumes_a_killed_job(tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    done, _ = run_workers(2, "backup", whole)
    assert done.returncode == 0, done.stderr[-3000:]
    done, _ = run_workers(2, "backup-crash", broken)
    assert done.returncode != 0
    assert (broken / "backup").exists() and not (broken / "rank0.npz").exists()
    done, _ = run_workers(2, "backup", broken)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = results(broken)
    assert len(resumed["history_loss"]) < 4  # it did resume, not start again
    for a, b in zip(_weights(results(whole)), _weights(resumed)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(_weights(resumed), _weights(results(broken, 1))):
        np.testing.assert_array_equal(a, b)  # BatchNormalization's statistics too
    assert not (broken / "backup").exists()  # the chief deleted it at the end


def _fashion_mnist() -> Path:
    data = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-mnist"
    if not (data / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the Fashion-MNIST files are not in {data}")
    return data


@pytest.mark.slow  # an epoch of the lab on one process, then on two
def test_lab_on_two_workers_matches_one_process(tmp_path):
    data = _fashion_mnist()
    lab = [sys.executable, "-m", "neuroflow", "lab", "--epochs", "1", "--seed", "3",
           "--data", str(data), "--quiet", "--verbose", "0"]
    one = subprocess.run(lab + ["--out", str(tmp_path / "one")], capture_output=True,
                         text=True, timeout=300, env=_environment())
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([_mpirun(), "--oversubscribe", "-n", "2"] + lab +
                         ["--multi-worker", "--out", str(tmp_path / "two")],
                         capture_output=True, text=True, timeout=300, env=_environment())
    assert two.returncode == 0, two.stderr[-3000:]
    accuracies = [[float(line.split(":")[1]) for line in run.stdout.splitlines()
                   if line.startswith("test accuracy:")] for run in (one, two)]
    assert len(accuracies[1]) == 1  # worker 1 prints nothing
    # The same training up to float32 summation order: at most a few of the 10,000 test
    # images may change their predicted class.
    assert abs(accuracies[0][0] - accuracies[1][0]) <= 5e-4


def test_collectives_threaded_and_polled(tmp_path):
    sys.path.insert(0, str(WORKER.parent))
    from collectives import rank_values

    command = [_mpirun(), "--oversubscribe", "-n", "3", sys.executable,
               str(WORKER.with_name("collectives.py")), str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env=_environment())
    assert done.returncode == 0, done.stderr[-3000:]
    values = [rank_values(rank) for rank in range(3)]
    for rank in range(3):
        with np.load(tmp_path / f"collectives{rank}.npz") as got:
            for threaded in (True, False):
                for pack in (0, 64):
                    for i in range(3):
                        summed = got[f"sum_{threaded}_{pack}_{i}"]
                        assert summed.shape == values[0][i].shape
                        assert summed.dtype == values[0][i].dtype
                        np.testing.assert_allclose(summed, sum(v[i] for v in values),
                                                   rtol=1e-6)
                        np.testing.assert_array_equal(got[f"bcast_{threaded}_{pack}_{i}"],
                                                      values[0][i])


def test_custom_loop_apply_gradients_sums_over_workers(tmp_path):
    """strategy.run + compute_average_loss + apply_gradients on two workers trains as one
    process on the same global batches (apply_gradients sums the replicas' gradients)."""
    one, two = tmp_path / "one", tmp_path / "two"
    done, _ = run_workers(0, "custom-single", one)
    assert done.returncode == 0, done.stderr[-3000:]
    done, _ = run_workers(2, "custom", two)
    assert done.returncode == 0, done.stderr[-3000:]
    reference, ranks = results(one), [results(two, r) for r in range(2)]
    assert len(_weights(reference)) == 4
    for a, b in zip(_weights(ranks[0]), _weights(ranks[1])):
        np.testing.assert_array_equal(a, b)
    for mine, expected in zip(_weights(ranks[0]), _weights(reference)):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    # strategy.reduce("SUM") of the replicas' losses is the global batch's mean loss.
    np.testing.assert_allclose(ranks[0]["losses"], reference["losses"], rtol=1e-5)
    assert int(ranks[0]["iterations"]) == int(reference["iterations"]) == 18
    assert str(reference["refused"]) == ""  # one replica: nothing to sum, a trace is fine
    for rank in ranks:
        message = str(rank["refused"])
        assert "inside a tf.function" in message and "strategy.run outside" in message
