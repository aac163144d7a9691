"""Data-parallel training over MPI: time per epoch, time in allreduce, scaling efficiency.

    python bench/distribute.py                          # lab and CNN, 1 and 2 processes
    python bench/distribute.py --models lab --epochs 3 --workers 1,2,4
    python bench/distribute.py --json runs.json

Each configuration is its own job, one after the other: ``1`` is one process without
a strategy (the baseline), ``N`` is ``mpirun -n N`` with MultiWorkerMirroredStrategy and
the same global batch (the lab's 32, the CNN's 128), so every configuration does the
same math. The CNN (bench/cnn.py's network) trains on the first ``--cnn-samples``
images to keep the run short. Reported per configuration: the median seconds per epoch
after the first (validation excluded), seconds in the gradients' allreduce per epoch,
steps per second, speedup and efficiency (speedup / N) against one process.

Then a model of larger clusters: a ring allreduce of S bytes over N workers costs
2 (N-1)/N * S / bandwidth + 2 (N-1) * latency per step; the compute per step is
the one-process step time scaled to B/N samples (its fixed part measured as the
intercept of two batch sizes would be more exact; here the whole step scales, which
flatters small per-worker batches). The table prints the predicted efficiency on N
machines for a few bandwidths, and the per-worker batch below which the allreduce
takes longer than the compute (efficiency under 50%).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "fashion-mnist"
BATCH = {"lab": 32, "cnn": 128}
LATENCY_SECONDS = 5e-6  # per message on a datacenter network (MPI over TCP is ~20-50 us)


def _model(name: str, keras):
    if name == "lab":
        from neuroflow.lab import build_model

        model = build_model()
        model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                      metrics=["accuracy"])
        return model
    sys.path.insert(0, str(HERE))
    from cnn import build_convnet

    return build_convnet(keras, seed=0)


def worker(name: str, epochs: int, data: str, samples: int, distributed: bool, out: str):
    """One process of a configuration: trains, and worker 0 writes its measurements."""
    import contextlib

    import neuroflow as tf
    from neuroflow.keras.datasets import fashion_mnist

    keras = tf.keras
    keras.utils.set_random_seed(0)
    (x, y), _ = fashion_mnist.load_data(data)
    x = (x / 255.0).astype("float32")
    if name == "cnn":
        x = x[..., None]
    x, y = x[:samples], y[:samples]
    strategy = tf.distribute.MultiWorkerMirroredStrategy() if distributed else None
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = _model(name, keras)
    seconds, comm = [], []
    collective = strategy._collective if strategy else None

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()
            self.comm = collective.allreduce_seconds if collective else 0.0

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)
            comm.append((collective.allreduce_seconds if collective else 0.0) - self.comm)

    model.fit(x, y, batch_size=BATCH[name], epochs=epochs, verbose=0, callbacks=[Timer()])
    if strategy is None or strategy.extended.should_checkpoint:
        gradient_bytes = sum(w.numpy().nbytes for w in model.trainable_weights)
        steps = -(-len(x) // BATCH[name])
        Path(out).write_text(json.dumps({"seconds": seconds, "allreduce": comm,
                                         "steps": steps, "gradient_bytes": gradient_bytes}))


def run_configuration(name: str, workers: int, args) -> dict:
    out = Path(tempfile.mkdtemp()) / "result.json"
    command = [sys.executable, __file__, "--worker", name, "--epochs", str(args.epochs),
               "--data", str(args.data), "--cnn-samples", str(args.cnn_samples),
               "--out", str(out)]
    env = dict(os.environ)
    if workers > 1:
        mpirun = Path(sys.executable).with_name("mpirun")
        command = [str(mpirun) if mpirun.exists() else shutil.which("mpirun") or "mpirun",
                   "--oversubscribe", "-n", str(workers)] + command + ["--distributed"]
        env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    subprocess.run(command, check=True, env=env)
    result = json.loads(out.read_text())
    shutil.rmtree(out.parent)
    later = result["seconds"][1:] or result["seconds"]
    result.update(workers=workers, model=name, epoch=statistics.median(later),
                  comm=statistics.median(result["allreduce"][1:] or result["allreduce"]))
    return result


def cluster_model(base: dict) -> list[str]:
    """Predicted efficiency on N machines from the one-process step time."""
    step = base["epoch"] / base["steps"]
    per_sample = step / BATCH[base["model"]]
    size = base["gradient_bytes"]
    lines = [f"  {base['model']}: gradients {size / 1e6:.2f} MB, one-process step "
             f"{step * 1e3:.2f} ms for {BATCH[base['model']]} samples "
             f"({per_sample * 1e6:.1f} us per sample)"]
    header = "  bandwidth    " + "".join(f"N={n:<8}" for n in (2, 4, 8, 16, 64)) + \
        "comm > compute below (per-worker batch)"
    lines.append(header)
    for gbits in (1, 10, 100):
        bandwidth = gbits * 1e9 / 8
        cells, threshold = [], None
        for n in (2, 4, 8, 16, 64):
            comm = 2 * (n - 1) / n * size / bandwidth + 2 * (n - 1) * LATENCY_SECONDS
            compute = per_sample * BATCH[base["model"]] / n
            cells.append(f"{compute / (compute + comm):<10.0%}")
        comm2 = 2 * size / bandwidth  # the limit of large N
        threshold = comm2 / per_sample
        lines.append(f"  {gbits:>3} Gbit/s   " + "".join(cells) + f"{threshold:,.0f} samples")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="lab,cnn")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cnn-samples", type=int, default=12800)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--json", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        samples = args.cnn_samples if args.worker == "cnn" else 55000
        worker(args.worker, args.epochs, args.data, samples, args.distributed, args.out)
        return
    runs = []
    print(f"{'model':<6}{'N':>3}{'s/epoch':>10}{'allreduce s/epoch':>19}{'steps/s':>10}"
          f"{'speedup':>9}{'efficiency':>12}")
    for name in args.models.split(","):
        base = None
        for workers in (int(n) for n in args.workers.split(",")):
            result = run_configuration(name, workers, args)
            base = base or result
            speedup = base["epoch"] / result["epoch"]
            result.update(speedup=speedup, efficiency=speedup / workers)
            runs.append(result)
            print(f"{name:<6}{workers:>3}{result['epoch']:>10.2f}{result['comm']:>19.2f}"
                  f"{result['steps'] / result['epoch']:>10.0f}{speedup:>9.2f}"
                  f"{speedup / workers:>12.0%}", flush=True)
    print("\nPredicted efficiency on N machines (ring allreduce, one worker per machine):")
    for base in (r for r in runs if r["workers"] == 1):
        print("\n".join(cluster_model(base)))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
