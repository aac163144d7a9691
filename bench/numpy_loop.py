"""The lab's training, written by hand in NumPy: the baseline neuroflow must beat.

Same math as the Keras lab: 784-100-75-10 MLP, ReLU, softmax, sparse categorical
cross-entropy, SGD lr 0.01, batch 32, glorot-uniform kernels, zero biases, running
loss and accuracy per epoch, validation at the end of each epoch. Written the way a
careful person writes it with NumPy, in float32.
"""

from __future__ import annotations

import time

import numpy as np


def glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def forward(params, x):
    w1, b1, w2, b2, w3, b3 = params
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    z = h2 @ w3 + b3
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    return h1, h2, p


def train_epoch(params, x, y, rng, lr=0.01, batch=32):
    w1, b1, w2, b2, w3, b3 = params
    order = rng.permutation(len(x))
    total_loss = correct = seen = 0.0
    for start in range(0, len(x), batch):
        idx = order[start:start + batch]
        xb = x[idx].reshape(len(idx), -1).astype(np.float32)
        yb = y[idx]
        n = len(idx)
        h1, h2, p = forward(params, xb)
        picked = p[np.arange(n), yb]
        total_loss += -np.log(np.maximum(picked, 1e-7)).sum()
        correct += (p.argmax(axis=1) == yb).sum()
        seen += n
        dz = p.copy()
        dz[np.arange(n), yb] -= 1
        dz /= n
        dw3 = h2.T @ dz
        db3 = dz.sum(axis=0)
        dh2 = (dz @ w3.T) * (h2 > 0)
        dw2 = h1.T @ dh2
        db2 = dh2.sum(axis=0)
        dh1 = (dh2 @ w2.T) * (h1 > 0)
        dw1 = xb.T @ dh1
        db1 = dh1.sum(axis=0)
        for param, grad in zip(params, (dw1, db1, dw2, db2, dw3, db3)):
            param -= lr * grad
    return total_loss / seen, correct / seen


def evaluate(params, x, y, batch=32):
    total_loss = correct = 0.0
    for start in range(0, len(x), batch):
        xb = x[start:start + batch].reshape(-1, 784).astype(np.float32)
        yb = y[start:start + batch]
        _, _, p = forward(params, xb)
        total_loss += -np.log(np.maximum(p[np.arange(len(yb)), yb], 1e-7)).sum()
        correct += (p.argmax(axis=1) == yb).sum()
    return total_loss / len(x), correct / len(x)


def init_params(seed=0):
    rng = np.random.default_rng(seed)
    return [glorot(rng, 784, 100), np.zeros(100, np.float32), glorot(rng, 100, 75),
            np.zeros(75, np.float32), glorot(rng, 75, 10), np.zeros(10, np.float32)]


def run(x_train, y_train, x_valid, y_valid, epochs=3, seed=0):
    """Train; returns seconds per epoch (each including validation) and the last metrics."""
    params = init_params(seed)
    rng = np.random.default_rng(seed)
    times, metrics = [], None
    for _ in range(epochs):
        start = time.perf_counter()
        loss, acc = train_epoch(params, x_train, y_train, rng)
        val_loss, val_acc = evaluate(params, x_valid, y_valid)
        times.append(time.perf_counter() - start)
        metrics = (loss, acc, val_loss, val_acc)
    return times, metrics


def evaluate_probabilities(params, x, batch=32):
    """Class probabilities for ``x``, batch by batch (the ``predict`` of this loop)."""
    outputs = [forward(params, x[start:start + batch].reshape(-1, 784).astype(np.float32))[2]
               for start in range(0, len(x), batch)]
    return np.concatenate(outputs)


def matmul_floor(n_train: int, n_valid: int, epochs: int = 3, batch: int = 32, seed: int = 0):
    """Seconds per epoch of the lab's matrix products alone: a floor for any loop.

    Per training step the eight products of the forward and backward passes (the
    first layer's input gradient is never needed), per validation batch the three
    forward ones, all into preallocated outputs, on the lab's shapes. No data
    gathering, no elementwise work, no bookkeeping: what is left when everything
    but BLAS costs nothing.
    """
    rng = np.random.default_rng(seed)
    w1, _, w2, _, w3, _ = init_params(seed)
    x = rng.random((batch, 784), dtype=np.float32)
    h1, h2 = rng.random((batch, 100), dtype=np.float32), rng.random((batch, 75), dtype=np.float32)
    dz = rng.random((batch, 10), dtype=np.float32)
    outs = {name: np.empty(shape, np.float32) for name, shape in (
        ("a1", (batch, 100)), ("a2", (batch, 75)), ("z", (batch, 10)), ("dh2", (batch, 75)),
        ("dw3", (75, 10)), ("dh1", (batch, 100)), ("dw2", (100, 75)), ("dw1", (784, 100)))}
    full, last = divmod(n_train, batch)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for _ in range(full + (last > 0)):
            np.matmul(x, w1, out=outs["a1"])
            np.matmul(h1, w2, out=outs["a2"])
            np.matmul(h2, w3, out=outs["z"])
            np.matmul(dz, w3.T, out=outs["dh2"])
            np.matmul(h2.T, dz, out=outs["dw3"])
            np.matmul(outs["dh2"], w2.T, out=outs["dh1"])
            np.matmul(h1.T, outs["dh2"], out=outs["dw2"])
            np.matmul(x.T, outs["dh1"], out=outs["dw1"])
        for _ in range(-(-n_valid // batch)):
            np.matmul(x, w1, out=outs["a1"])
            np.matmul(h1, w2, out=outs["a2"])
            np.matmul(h2, w3, out=outs["z"])
        times.append(time.perf_counter() - start)
    return times
