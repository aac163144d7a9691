"""``tf.train.Checkpoint``: save and restore variables, models and optimizers by object paths.

>>> import os, tempfile, neuroflow as tf
>>> folder = tempfile.mkdtemp()
>>> v = tf.Variable([1.0, 2.0])
>>> checkpoint = tf.train.Checkpoint(v=v)
>>> path = checkpoint.save(os.path.join(folder, "ckpt"))
>>> os.path.basename(path)
'ckpt-1'
>>> _ = v.assign([0.0, 0.0])
>>> _ = checkpoint.restore(path).assert_consumed()
>>> v.numpy()
array([1., 2.], dtype=float32)

Values are matched to objects by the names on the way from the root, as TensorFlow
does (``model/layers/0/kernel``), not by variable names, which change from process
to process. The files are neuroflow's own (see ``checkpoint_io.py``); TensorFlow's
checkpoint format is not read.

**Deferred restoration.** A value whose object does not exist yet waits for it, as in
TensorFlow: a layer that is not built gets its weights when it builds, and an
optimizer that has not run yet gets its slot variables (Adam's moments, SGD's
momentum) when it creates them on its first step, so a restored optimizer continues
exactly where the saved one stopped. neuroflow's layers and optimizers create their
variables in ``build``; a restore waiting for one of them runs right after its next
``build`` (the checkpoint places a wrapper on that object's ``build`` until then).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from neuroflow.errors import InvalidArgumentError
from neuroflow.train import checkpoint_io, trackable
from neuroflow.train.checkpoint_io import Reader, SavedGraph
from neuroflow.train.trackable import PythonState, check_trackable, children, dotted, is_leaf
from neuroflow.variables import Variable


class Checkpoint:
    """Groups trackable objects, saving them to and restoring them from checkpoint files.

    Args:
        root: optional object whose children become the checkpoint's top level
            (its own value, if it is a variable, is stored under the empty path).
        **kwargs: the objects to save, by name: variables, Keras models, layers and
            optimizers, modules, other Checkpoints, PythonState objects, and lists or
            dicts of them.
    """

    def __init__(self, root: Any = None, **kwargs: Any):
        if root is not None:
            check_trackable(root, "root")
        for name, value in sorted(kwargs.items()):
            check_trackable(value, name)
            if root is not None:
                existing = children(root).get(name)
                if existing is not None and existing is not value:
                    raise ValueError(f"Cannot create a Checkpoint with keyword argument {name} "
                                     f"if root.{name} already exists. Pass it under another "
                                     f"name, or leave it out: root.{name} is saved already.")
        self._root = root
        self._objects = dict(sorted(kwargs.items()))
        self._save_counter: Variable | None = None  # made on first save or restore, as in TF
        self._waiting_for_counter: list[_Restoration] = []
        for name, value in self._objects.items():
            if root is None:
                setattr(self, name, value)

    # --- the object graph ----------------------------------------------------------------
    def _checkpoint_children(self) -> dict[str, Any]:
        found = dict(children(self._root)) if self._root is not None else {}
        found.update(self._objects)
        if self._save_counter is not None:
            found["save_counter"] = self._save_counter
        return found

    def _graph_root(self) -> Any:
        """The object at the empty path: ``root`` with the keyword objects attached, or self."""
        return self if self._root is None else _AttachedRoot(self)

    @property
    def save_counter(self) -> Variable:
        """An int64 variable counting ``save`` calls; it numbers the checkpoints."""
        self._maybe_create_save_counter()
        return self._save_counter

    def _maybe_create_save_counter(self) -> None:
        if self._save_counter is None:
            self._save_counter = Variable(np.int64(0), trainable=False, name="save_counter")
            # A checkpoint read before the counter existed restores it now, as TF does.
            for restoration in self._waiting_for_counter:
                restoration.retry()
            self._waiting_for_counter = []

    # --- writing -------------------------------------------------------------------------
    def write(self, file_prefix) -> str:
        """Write a checkpoint at ``file_prefix`` exactly (no number, no ``checkpoint`` file)."""
        prefix = _prefix(file_prefix, "write")
        graph, values = _collect(self._graph_root())
        checkpoint_io.write(prefix, graph, values)
        return prefix

    def save(self, file_prefix) -> str:
        """Increment ``save_counter`` and write ``<file_prefix>-<save_counter>``.

        Also records it as the folder's latest checkpoint (the ``checkpoint`` file read
        by ``tf.train.latest_checkpoint``). Returns the path to pass to ``restore``.
        """
        from neuroflow.train import checkpoint_manager

        prefix = _prefix(file_prefix, "save")
        self.save_counter.assign_add(np.int64(1))
        path = self.write(f"{prefix}-{int(self._save_counter.numpy())}")
        checkpoint_manager.record_latest(path)
        return path

    # --- reading -------------------------------------------------------------------------
    def read(self, save_path) -> CheckpointLoadStatus:
        """Restore from a checkpoint written by ``write`` (does not create ``save_counter``)."""
        prefix = _prefix(save_path, "read")
        restoration = _Restoration(Reader(prefix), self._graph_root())
        if restoration.waits_on_root():
            self._waiting_for_counter.append(restoration)
        restoration.start()
        return CheckpointLoadStatus(restoration, self)

    def restore(self, save_path) -> CheckpointLoadStatus | InitializationOnlyStatus:
        """Restore from ``save_path`` (what ``save`` or ``latest_checkpoint`` returned).

        ``None`` restores nothing and returns a status whose assertions fail, as in TF,
        so ``checkpoint.restore(manager.latest_checkpoint)`` starts fresh on a first run.
        Values whose objects do not exist yet are restored when they are created (see
        the module's notes); the status tells what was and was not matched.
        """
        if save_path is None:
            return InitializationOnlyStatus()
        status = self.read(save_path)
        self._maybe_create_save_counter()
        return status


class _AttachedRoot:
    """The root object with the Checkpoint's keyword objects and counter attached."""

    def __init__(self, checkpoint: Checkpoint):
        self.checkpoint = checkpoint

    def _checkpoint_children(self) -> dict[str, Any]:
        return self.checkpoint._checkpoint_children()

    def leaf(self) -> Any:
        root = self.checkpoint._root
        return root if is_leaf(root) else None


def _prefix(path, what: str) -> str:
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    raise TypeError(f"Checkpoint.{what} expects a path (a str or os.PathLike), received "
                    f"{type(path).__name__} {path!r}. Pass e.g. os.path.join(folder, 'ckpt').")


def _collect(root: Any) -> tuple[SavedGraph, dict[str, np.ndarray]]:
    """The object graph reachable from ``root`` and the value of each leaf in it."""
    order = trackable.walk(root)
    ids = {id(obj): number for number, (_, obj, _) in enumerate(order)}
    graph = SavedGraph()
    values: dict[str, np.ndarray] = {}
    for path, obj, kids in order:
        graph.children.append({name: ids[id(child)] for name, child in kids.items()})
        graph.paths.append(path)
        leaf = obj.leaf() if isinstance(obj, _AttachedRoot) else obj
        if is_leaf(leaf):
            key = trackable.value_key(path, leaf)
            values[key] = _value_of(leaf)
            graph.keys.append(key)
        else:
            graph.keys.append(None)
    return graph, values


def _value_of(leaf: Any) -> np.ndarray:
    if isinstance(leaf, PythonState):
        return np.asarray(str(leaf.serialize()))
    return np.asarray(leaf.numpy())


class _Restoration:
    """One restore: saved nodes matched to live objects, walking both graphs from the root.

    Where a live object lacks some of a saved node's descendants, the nearest unbuilt
    layer or optimizer above them waits: the walk resumes from it after its ``build``.
    """

    def __init__(self, reader: Reader, root: Any):
        self.reader = reader
        self.graph = reader.graph
        self.root = root
        self.live: dict[int, Any] = {}  # saved node -> live object
        self.restored: set[int] = set()  # saved nodes whose value was assigned
        self.bound: set[int] = set()  # ids of live leaves that got a value
        self._waiting: dict[int, list[int]] = {}  # id(live object) -> saved nodes to retry

    def waits_on_root(self) -> bool:
        return "save_counter" in self.graph.children[0]

    def start(self) -> None:
        self._visit(0, self.root, set())

    def retry(self) -> None:
        """Walk again from the root: a child added since (the save counter) gets its value."""
        self._visit(0, self.root, set())

    def _visit(self, number: int, obj: Any, visiting: set[int]) -> bool:
        """Match ``obj`` to saved node ``number`` and below; True if something is missing
        below that no unbuilt object will bring."""
        if number in visiting:
            return False
        visiting.add(number)
        # Containers such as an optimizer's list of variables are made anew on each
        # walk: the node follows the newest one.
        self.live[number] = obj
        key = self.graph.keys[number]
        leaf = obj.leaf() if isinstance(obj, _AttachedRoot) else obj
        if key is not None and is_leaf(leaf) and number not in self.restored:
            self._assign(number, key, leaf)
        present = children(obj)
        missing = False
        for name, child_number in self.graph.children[number].items():
            child = present.get(name)
            if child is None:
                missing = True
            else:
                missing = self._visit(child_number, child, visiting) or missing
        if missing and trackable.is_deferrable(obj):
            self._wait_for_build(number, obj)
            return False
        return missing

    def _wait_for_build(self, number: int, obj: Any) -> None:
        waiting = self._waiting.setdefault(id(obj), [])
        if number in waiting:
            return
        waiting.append(number)
        if len(waiting) > 1:
            return
        previous = vars(obj).get("build")  # another restore's wrapper, if one waits too
        original = obj.build

        def build_then_restore(*args, **kwargs):
            # Take the wrapper off first: build may be called again, and must then be plain.
            if previous is None:
                vars(obj).pop("build", None)
            else:
                obj.build = previous
            result = original(*args, **kwargs)
            for saved in self._waiting.pop(id(obj), []):
                self._visit(saved, obj, set())
            return result

        obj.build = build_then_restore

    def _assign(self, number: int, key: str, leaf: Any) -> None:
        value = self.reader.value(key)
        if isinstance(leaf, PythonState):
            leaf.deserialize(str(value))
        else:
            _check_compatible(leaf, value, key)
            leaf.assign(value)
        self.restored.add(number)
        self.bound.add(id(leaf))

    # --- what the status reports -----------------------------------------------------------
    def unresolved(self) -> list[tuple[str, str]]:
        """(path, key) of saved values not restored yet."""
        return [(self.graph.paths[n], key) for n, key in enumerate(self.graph.keys)
                if key is not None and n not in self.restored]

    def unused_live_leaves(self) -> list[Any]:
        """Variables and states of the program that got no value from the checkpoint."""
        leaves = []
        for _, obj, _ in trackable.walk(self.root):
            leaf = obj.leaf() if isinstance(obj, _AttachedRoot) else obj
            if is_leaf(leaf) and id(leaf) not in self.bound:
                leaves.append(leaf)
        return leaves


def _check_compatible(variable: Variable, value: np.ndarray, key: str) -> None:
    if not variable.shape.is_compatible_with(value.shape):
        raise ValueError(f"Received incompatible tensor with shape {tuple(value.shape)} when "
                         f"attempting to restore variable with shape {tuple(variable.shape)} "
                         f"and name {variable.name}. The checkpoint's value {key} was saved "
                         f"from a different model; build the same model to restore it.")
    if np.dtype(variable.dtype.np) != value.dtype:
        raise InvalidArgumentError(f"tensor_name = {key}; expected dtype "
                                   f"{variable.dtype.name} does not equal original dtype "
                                   f"{_dtype_name(value.dtype)}. Create the variable with "
                                   f"dtype={_dtype_name(value.dtype)!r} to restore it.")


def _dtype_name(dtype: np.dtype) -> str:
    # TensorFlow's messages call float32 "float" and float64 "double".
    return {"float32": "float", "float64": "double"}.get(dtype.name, dtype.name)


class CheckpointLoadStatus:
    """What ``restore`` matched; its assertions raise ``AssertionError`` as TensorFlow's do."""

    def __init__(self, restoration: _Restoration, checkpoint: Checkpoint):
        self._restoration = restoration
        self._checkpoint = checkpoint

    def assert_consumed(self) -> CheckpointLoadStatus:
        """Every value in the checkpoint was restored, and every variable got one."""
        unresolved = self._restoration.unresolved()
        if unresolved:
            path, key = unresolved[0]
            raise AssertionError(
                f"Unresolved object in checkpoint {dotted(path)}: checkpoint_key: \"{key}\" has "
                f"no matching object in the program ({len(unresolved)} value(s) unresolved in "
                f"all). A layer or optimizer that is not built yet gets its values when it "
                f"builds; to load part of a checkpoint on purpose, use expect_partial() or "
                f"assert_existing_objects_matched() instead.")
        return self.assert_existing_objects_matched()

    def assert_existing_objects_matched(self) -> CheckpointLoadStatus:
        """Every variable that exists now got a value (the checkpoint may hold more)."""
        unused = self._restoration.unused_live_leaves()
        if unused:
            shown = min(len(unused), 10)
            raise AssertionError(f"Found {len(unused)} Python objects that were not bound to "
                                 f"checkpointed values, likely due to changes in the Python "
                                 f"program. Showing {shown} of {len(unused)} unmatched objects: "
                                 f"{unused[:shown]}")
        return self

    def assert_nontrivial_match(self) -> CheckpointLoadStatus:
        """Something besides the root matched."""
        if len(self._restoration.live) <= 1:
            unused = self._restoration.unused_live_leaves()
            if unused:
                raise AssertionError(f"Nothing except the root object matched a checkpointed "
                                     f"value. Typically this means that the checkpoint does not "
                                     f"match the Python program. The following objects have no "
                                     f"matching checkpointed value: {unused}")
            raise AssertionError(f"Nothing to load. No dependencies have been added to "
                                 f"{self._checkpoint!r} yet.")
        return self

    def expect_partial(self) -> CheckpointLoadStatus:
        """Accept a partial restore (TensorFlow silences its warnings; neuroflow prints none)."""
        return self

    def run_restore_ops(self, session=None) -> None:
        """Nothing to run: values are assigned eagerly (as in TF 2's eager mode)."""

    def initialize_or_restore(self, session=None) -> None:
        """Nothing to do: variables are initialized when created and restored eagerly."""


class InitializationOnlyStatus:
    """What ``restore(None)`` returns: nothing was restored, so assertions fail, as in TF."""

    _MESSAGE = "No checkpoint specified (save_path=None); nothing is being restored."

    def assert_consumed(self):
        raise AssertionError(self._MESSAGE)

    def assert_existing_objects_matched(self):
        raise AssertionError(self._MESSAGE)

    def assert_nontrivial_match(self):
        raise AssertionError(self._MESSAGE)

    def expect_partial(self) -> InitializationOnlyStatus:
        return self

    def run_restore_ops(self, session=None) -> None:
        raise AssertionError("No checkpoint specified, so no restore ops are available "
                             "(save_path=None to Saver.restore).")

    def initialize_or_restore(self, session=None) -> None:
        """Nothing to do: neuroflow's variables are initialized when created."""
