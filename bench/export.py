"""Exported models side by side: file sizes, one-prediction latency, batch-256 throughput.

    python bench/export.py                    # the lab MLP and the convnet, 1 epoch each
    python bench/export.py --model mlp --epochs 3 --calls 500

Each model (the lab MLP: Flatten, Dense(128, relu), Dense(10, softmax); the convnet of
bench/cnn.py) is trained on the first 12,000 Fashion-MNIST training images, then run by:
neuroflow's ``model.predict``; onnxruntime on ``model.export(format="onnx")`` (when both
are there); LiteRT on neuroflow's float, dynamic-range and int8 ``.tflite`` files;
neuroflow's own ``tf.lite.Interpreter`` on the float and int8 files (when it loads them);
and, when NEUROFLOW_PEER_PYTHON names a Python with TensorFlow, LiteRT on TensorFlow's
converter output for the same weights and the same representative data. Prints the file
size, the test accuracy on the 10,000 test images, the median microseconds of one
single-image prediction and the images per second in batches of 256, with each row's
ratio to neuroflow's ``predict``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "fashion-mnist"
CALIBRATION = 200  # representative images, taken after the training images


def build(keras, kind: str):
    """The model, compiled, seeded."""
    if kind == "cnn":
        sys.path.insert(0, str(HERE))
        from cnn import build_convnet

        return build_convnet(keras, 0)
    keras.utils.set_random_seed(0)
    layers = keras.layers
    model = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def load(kind: str):
    folder = DATA if (DATA / "train-images-idx3-ubyte.gz").is_file() else \
        Path("/usr/share/datasets/fashion-mnist")

    def read(name, offset):
        with gzip.open(folder / name) as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    shape = (-1, 28, 28, 1) if kind == "cnn" else (-1, 28, 28)
    x = (read("train-images-idx3-ubyte.gz", 16).reshape(shape) / 255.0).astype(np.float32)
    y = read("train-labels-idx1-ubyte.gz", 8)
    x_test = (read("t10k-images-idx3-ubyte.gz", 16).reshape(shape) / 255.0).astype(np.float32)
    y_test = read("t10k-labels-idx1-ubyte.gz", 8)
    return x[:12000], y[:12000], x[12000:12000 + CALIBRATION], x_test, y_test


def representative(samples):
    return lambda: ([samples[i:i + 1]] for i in range(len(samples)))


def convert(lite, model, mode: str, samples) -> bytes:
    converter = lite.TFLiteConverter.from_keras_model(model)
    if mode != "float":
        converter.optimizations = [lite.Optimize.DEFAULT]
    if mode == "int8":
        converter.representative_dataset = representative(samples)
    return converter.convert()


def peer_convert(kind: str, folder: str) -> None:
    """Run under TensorFlow: TensorFlow's converter on the weights saved in ``folder``."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras
    import tensorflow as tf

    saved = np.load(Path(folder) / "weights.npz")
    model = build(keras, kind)
    model.set_weights([saved[f"w{i}"] for i in range(len(saved.files) - 1)])
    for mode in ("float", "int8"):
        (Path(folder) / f"tf_{mode}.tflite").write_bytes(
            convert(tf.lite, model, mode, saved["samples"]))


class LiteRunner:
    """Runs a ``.tflite`` file with an interpreter class (LiteRT's or neuroflow's)."""

    def __init__(self, interpreter_class, content: bytes):
        self.interpreter = interpreter_class(model_content=content)
        self.source = self.interpreter.get_input_details()[0]
        self.sink = self.interpreter.get_output_details()[0]
        self.batch = None

    def __call__(self, x):
        if self.batch != x.shape[0]:
            self.interpreter.resize_tensor_input(self.source["index"], x.shape)
            self.interpreter.allocate_tensors()
            self.batch = x.shape[0]
        self.interpreter.set_tensor(self.source["index"], x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.sink["index"])


def batched(run, x, size=256):
    return np.concatenate([run(x[i:i + size]) for i in range(0, len(x), size)])


def measure(run, x_test, y_test, calls: int) -> dict:
    accuracy = float((batched(run, x_test).argmax(1) == y_test).mean())
    one = x_test[:1]
    run(one)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        run(one)
        times.append(time.perf_counter() - start)
    batch = x_test[:256]
    run(batch)
    start = time.perf_counter()
    rounds = max(3, calls // 50)
    for _ in range(rounds):
        run(batch)
    throughput = 256 * rounds / (time.perf_counter() - start)
    return {"accuracy": accuracy, "latency_us": statistics.median(times) * 1e6,
            "per_second": throughput}


def runners(kind: str, model, samples, folder: Path) -> dict:
    """name -> (file size in bytes or None, callable)."""
    import neuroflow as tf

    made = {"neuroflow predict": (None, lambda x: model.predict(x, verbose=0))}
    files = {mode: convert(tf.lite, model, mode, samples)
             for mode in ("float", "dynamic", "int8")}
    try:
        import onnxruntime

        path = folder / "model.onnx"
        model.export(str(path), format="onnx")
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        made["onnxruntime"] = (path.stat().st_size,
                               lambda x: session.run(None, {name: x})[0])
    except Exception as error:  # noqa: BLE001 - a missing exporter or runtime is reported
        print(f"onnxruntime skipped: {type(error).__name__}: {error}"[:200])
    from ai_edge_litert.interpreter import Interpreter

    for mode, content in files.items():
        made[f"LiteRT {mode}"] = (len(content), LiteRunner(Interpreter, content))
    for mode in ("float", "int8"):
        try:
            runner = LiteRunner(tf.lite.Interpreter, files[mode])
            runner(samples[:1])
            made[f"neuroflow Interpreter {mode}"] = (len(files[mode]), runner)
        except Exception as error:  # noqa: BLE001 - the NumPy interpreter may lack an op
            print(f"neuroflow Interpreter {mode} skipped: {type(error).__name__}: {error}"[:200])
    peer = os.environ.get("NEUROFLOW_PEER_PYTHON")
    if peer:
        np.savez(folder / "weights.npz", samples=samples,
                 **{f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
        proc = subprocess.run([peer, __file__, "peer", kind, str(folder)],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            for mode in ("float", "int8"):
                content = (folder / f"tf_{mode}.tflite").read_bytes()
                made[f"LiteRT TensorFlow's {mode}"] = (len(content),
                                                       LiteRunner(Interpreter, content))
        else:
            print(f"TensorFlow's converter failed:\n{proc.stderr[-1500:]}", file=sys.stderr)
    else:
        print("TensorFlow's converter skipped: set NEUROFLOW_PEER_PYTHON to a Python with it.")
    return made


def report(kind: str, epochs: int, calls: int) -> list[dict]:
    from neuroflow import keras

    x, y, samples, x_test, y_test = load(kind)
    model = build(keras, kind)
    model.fit(x, y, batch_size=128, epochs=epochs, verbose=0)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (size, run) in runners(kind, model, samples, Path(folder)).items():
            rows.append({"model": kind, "what": name, "bytes": size,
                         **measure(run, x_test, y_test, calls)})
    base = rows[0]
    print(f"\n{kind}: {epochs} epoch(s) on 12,000 images; int8 calibrated on {CALIBRATION}")
    print("| what | file KB | test accuracy | one image us | speed vs predict | batch-256 img/s "
          "| vs predict |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        size = "" if row["bytes"] is None else f"{row['bytes'] / 1024:.1f}"
        print(f"| {row['what']} | {size} | {row['accuracy']:.4f} | {row['latency_us']:.0f} | "
              f"{base['latency_us'] / row['latency_us']:.2f}x | "
              f"{row['per_second']:.0f} | {row['per_second'] / base['per_second']:.2f}x |")
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "peer":
        peer_convert(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("mlp", "cnn", "both"), default="both")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    kinds = ("mlp", "cnn") if args.model == "both" else (args.model,)
    rows = [row for kind in kinds for row in report(kind, args.epochs, args.calls)]
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
