"""Check the tree and neighbour structures of a loaded model before anything runs it.

skops proves that a ``.skops`` file builds only trusted types; it cannot prove that their
content is sane. scikit-learn's compiled predict code follows the node arrays of
``sklearn.tree._tree.Tree``, ``TreePredictor`` (HistGradientBoosting) and ``KDTree``/``BallTree``
without bounds checks, so a crafted file with an out-of-range child, feature or sample index
would make ``predict()`` read (or, for gradient boosting's output buffer, write) outside an
array. That is why skops 0.16 stopped trusting Tree and TreePredictor by default; mlgate trusts
them (checks/trusted_types/sklearn.yaml) only together with these checks, which verify exactly
what the compiled code assumes, in the spirit of scikit-learn's own hardening (PR 34558):

* trees: ``node_count`` equals the nodes held; a node is a leaf (both children -1) or has two
  children with larger indices, each node has at most one parent; features are in range; the
  depth fits ``max_depth``; every estimator that feeds rows to a tree without the tree's own
  input check (the tree's owner, forests, gradient boosting) declares ``n_features_in_`` equal
  to the tree's feature count; gradient boosting's tree grid fits its output buffer;
* HistGradientBoosting predictors: the node dtype, children as above, ``feature_idx`` within
  the model's ``n_features_in_``, categorical splits on categorical features with in-range
  bitset rows;
* KD/ball trees: the index permutation, node ranges, implicit children and bound shapes fit
  the training points; a weighted Minkowski metric has one weight per feature.

The walk visits every object reachable from the model (attributes, containers, object arrays)
once. Anything unexpected fails closed with :class:`InputError` naming the file.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Any

import numpy as np

from mlgate.errors import InputError

TREE_LEAF = -1  # sklearn.tree._tree.TREE_LEAF
HIST_BITSET_WORDS = 8  # 8 x uint32 = 256 categories per bitset row (sklearn.utils._bitset)
MAX_OBJECTS = 5_000_000  # a walk longer than this is not a model we can vouch for


class StructureError(Exception):
    """A structure compiled code would follow out of bounds; the message says which."""


@dataclass
class _Found:
    trees: list[Any] = field(default_factory=list)
    tree_owners: list[Any] = field(default_factory=list)
    ensembles: list[Any] = field(default_factory=list)
    predictors: list[Any] = field(default_factory=list)
    hist_owners: list[Any] = field(default_factory=list)
    binary_trees: list[Any] = field(default_factory=list)


def check_structures(model: Any, source: Path | str) -> None:
    """Raise :class:`InputError` naming ``source`` when a structure in ``model`` is unsafe."""
    try:
        _check(model)
    except StructureError as exc:
        raise InputError(
            f"refusing to use this model: {exc} (a corrupt or crafted file: scikit-learn's "
            "compiled code would read outside its arrays)",
            source,
        ) from None


def _check(model: Any) -> None:
    found = _walk(model)
    for tree in found.trees:
        _check_tree(tree)
    for owner in found.tree_owners:
        _need_features(owner, owner.tree_.n_features, "its tree")
    for ensemble in found.ensembles:
        _check_ensemble(ensemble)
    checked: set[int] = set()
    for owner in found.hist_owners:
        checked.update(_check_hist_owner(owner))
    if any(id(p) not in checked for p in found.predictors):
        raise StructureError("a HistGradientBoosting tree predictor outside a fitted model")
    for tree in found.binary_trees:
        _check_binary_tree(tree)


@cache
def _types() -> dict[str, Any]:
    """The classes to look for (imported on first use: scikit-learn is slow to import)."""
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.neighbors import _ball_tree, _kd_tree
    from sklearn.tree._tree import Tree

    def bases(module: Any) -> tuple[type, ...]:
        return tuple(getattr(module, f"BinaryTree{bits}") for bits in (32, 64)
                     if hasattr(module, f"BinaryTree{bits}"))

    kd = bases(_kd_tree)
    return {"tree": Tree, "predictor": TreePredictor, "kd": kd, "binary": kd + bases(_ball_tree)}


def _walk(model: Any) -> _Found:
    """Every tree-like object reachable from ``model``, and the estimators that hold them."""
    kinds = _types()
    found = _Found()
    stack: list[Any] = [model]
    seen: set[int] = set()
    keep: list[Any] = []  # ids stay unique only while the objects live
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | complex | type(None)):
            continue
        seen.add(id(obj))
        keep.append(obj)
        if len(seen) > MAX_OBJECTS:
            raise StructureError(f"more than {MAX_OBJECTS} objects to check")
        if isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend(obj.ravel().tolist())
        elif isinstance(obj, np.generic | type | ModuleType | FunctionType | MethodType
                        | BuiltinFunctionType):
            continue  # no model state behind these (a module would lead everywhere)
        elif isinstance(obj, kinds["tree"]):
            found.trees.append(obj)
        elif isinstance(obj, kinds["binary"]):
            found.binary_trees.append(obj)
        elif isinstance(obj, kinds["predictor"]):
            found.predictors.append(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        else:
            attrs = getattr(obj, "__dict__", None)
            if not isinstance(attrs, dict):
                continue
            if isinstance(attrs.get("tree_"), kinds["tree"]):
                found.tree_owners.append(obj)
            if "estimators_" in attrs:
                found.ensembles.append(obj)
            if "_predictors" in attrs:
                found.hist_owners.append(obj)
            stack.extend(attrs.values())
    return found


def _name(obj: Any) -> str:
    return type(obj).__name__


def _features_in(obj: Any) -> int:
    value = getattr(obj, "n_features_in_", None)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise StructureError(f"{_name(obj)} has no valid n_features_in_ ({value!r})")
    return int(value)


def _need_features(obj: Any, n_features: int, what: str) -> None:
    declared = _features_in(obj)
    if declared != n_features:
        raise StructureError(
            f"{_name(obj)}.n_features_in_ is {declared} but {what} reads {n_features} features"
        )


def _children_ok(left: np.ndarray, right: np.ndarray, internal: np.ndarray, what: str) -> None:
    """Internal node i has two children with indices in (i, n); no node has two parents."""
    n = left.shape[0]
    index = np.arange(n)
    for child in (left, right):
        if np.any(internal & ((child <= index) | (child >= n))):
            bad = int(np.flatnonzero(internal & ((child <= index) | (child >= n)))[0])
            raise StructureError(f"{what} node {bad} has a child index out of range")
    children = np.concatenate([left[internal], right[internal]])
    if np.unique(children).size != children.size:
        raise StructureError(f"{what} has a node that is the child of two nodes")


def _depth(left: np.ndarray, right: np.ndarray, internal: np.ndarray) -> int:
    """Depth of the deepest node under the root (children checked: terminates)."""
    level = np.array([0])
    depth = 0
    while True:
        inner = level[internal[level]]
        if inner.size == 0:
            return depth
        level = np.concatenate([left[inner], right[inner]])
        depth += 1


def _check_tree(tree: Any) -> None:
    count, capacity = int(tree.node_count), int(tree.capacity)
    if count < 1 or count != capacity:
        raise StructureError(f"a decision tree declares {count} nodes but holds {capacity}")
    n_features = int(tree.n_features)
    if n_features < 1 or int(tree.n_outputs) < 1 or int(np.min(tree.n_classes)) < 1:
        raise StructureError("a decision tree has no features, outputs or classes")
    nodes = tree.__getstate__()["nodes"]  # safe to view now that node_count == capacity
    left = np.asarray(nodes["left_child"], dtype=np.int64)
    right = np.asarray(nodes["right_child"], dtype=np.int64)
    feature = np.asarray(nodes["feature"], dtype=np.int64)
    leaf = left == TREE_LEAF
    if np.any(leaf != (right == TREE_LEAF)):
        raise StructureError("a decision tree has a node with one child")
    internal = ~leaf
    _children_ok(left, right, internal, "a decision tree")
    if np.any(internal & ((feature < 0) | (feature >= n_features))):
        raise StructureError("a decision tree splits on a feature index out of range")
    depth = _depth(left, right, internal)
    if depth > int(tree.max_depth):
        raise StructureError(f"a decision tree is {depth} deep but declares {tree.max_depth}")


def _members(value: Any) -> Iterator[Any]:
    """Estimators in ``estimators_`` (a list, a list of lists, or an object array)."""
    if isinstance(value, np.ndarray):
        yield from (value.ravel().tolist() if value.dtype == object else [])
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, list | tuple | np.ndarray):
                yield from _members(item)
            else:
                yield item


def _tree_of(estimator: Any) -> Any:
    tree = getattr(estimator, "__dict__", {}).get("tree_")
    return tree if isinstance(tree, _types()["tree"]) else None


def _check_ensemble(ensemble: Any) -> None:
    """Forests and gradient boosting call their trees without the trees' own input check."""
    members = list(_members(ensemble.estimators_))
    trees = [_tree_of(m) for m in members]
    if not any(t is not None for t in trees):
        return
    width = _features_in(ensemble)
    subsets = getattr(ensemble, "estimators_features_", None)
    if subsets is None:
        for tree in trees:
            if tree is not None and int(tree.n_features) != width:
                raise StructureError(f"{_name(ensemble)}.n_features_in_ is {width} but one of "
                                     f"its trees reads {tree.n_features} features")
    else:  # bagging, isolation forest: each tree sees a column subset, indexed by numpy
        subsets = list(subsets)
        if len(subsets) != len(members):
            raise StructureError(f"{_name(ensemble)} has {len(members)} estimators but "
                                 f"{len(subsets)} feature subsets")
        for tree, columns in zip(trees, subsets, strict=True):
            columns = np.asarray(columns)
            if tree is not None and (columns.ndim != 1 or columns.size != int(tree.n_features)
                                     or int(tree.n_features) > width):
                raise StructureError(f"{_name(ensemble)} has a tree whose features do not "
                                     "match its feature subset")
    grid = ensemble.estimators_
    if isinstance(grid, np.ndarray) and grid.ndim == 2:
        _check_boosting_grid(ensemble, grid.shape[1])


def _check_boosting_grid(model: Any, per_stage: int) -> None:
    """Gradient boosting adds tree k's output into column k of a buffer whose width comes from
    ``n_trees_per_iteration_`` or the init estimator; both must cover every k."""
    declared = getattr(model, "n_trees_per_iteration_", None)
    if declared != per_stage:
        raise StructureError(f"{_name(model)} has {per_stage} trees per stage but "
                             f"n_trees_per_iteration_ is {declared!r}")
    init = getattr(model, "init_", None)
    if per_stage == 1 or (isinstance(init, str) and init == "zero"):
        return
    multiclass = bool(getattr(getattr(model, "_loss", None), "is_multiclass", False))
    classes = getattr(init, "classes_", None)
    n_classes = getattr(init, "n_classes_", per_stage)
    if (not multiclass or classes is None or len(classes) < per_stage
            or not isinstance(n_classes, int | np.integer) or n_classes < per_stage):
        raise StructureError(f"{_name(model)}'s initial predictions are narrower than its "
                             f"{per_stage} trees per stage")


def _check_hist_owner(owner: Any) -> set[int]:
    width = _features_in(owner)
    mapper = getattr(owner, "_bin_mapper", None)
    categorical = np.asarray(getattr(mapper, "is_categorical_", None))
    if categorical.ndim != 1 or categorical.size != width:
        raise StructureError(f"{_name(owner)}'s bin mapper does not describe its {width} "
                             "features")
    seen: set[int] = set()
    for predictor in _members(owner._predictors):
        if not isinstance(predictor, _types()["predictor"]):
            raise StructureError(f"{_name(owner)} holds a predictor of type {_name(predictor)}")
        _check_predictor(predictor, width, categorical.astype(bool))
        seen.add(id(predictor))
    return seen


def _check_predictor(predictor: Any, width: int, categorical: np.ndarray) -> None:
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    nodes = getattr(predictor, "nodes", None)
    if (not isinstance(nodes, np.ndarray) or nodes.ndim != 1 or nodes.size < 1
            or nodes.dtype != PREDICTOR_RECORD_DTYPE):
        raise StructureError("a HistGradientBoosting tree has a malformed node array")
    bitsets: list[np.ndarray] = []
    for name in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):
        rows = getattr(predictor, name, None)
        if (not isinstance(rows, np.ndarray) or rows.ndim != 2 or rows.dtype != np.uint32
                or rows.shape[1] != HIST_BITSET_WORDS):
            raise StructureError("a HistGradientBoosting tree has malformed category bitsets")
        bitsets.append(rows)
    internal = ~nodes["is_leaf"].astype(bool)
    left = nodes["left"].astype(np.int64)
    right = nodes["right"].astype(np.int64)
    _children_ok(left, right, internal, "a HistGradientBoosting tree")
    feature = nodes["feature_idx"].astype(np.int64)
    if np.any(internal & ((feature < 0) | (feature >= width))):
        raise StructureError("a HistGradientBoosting tree splits on a feature index out of "
                             "range")
    split = internal & nodes["is_categorical"].astype(bool)
    if np.any(split):
        count = min(b.shape[0] for b in bitsets)
        if np.any(nodes["bitset_idx"][split].astype(np.int64) >= count):
            raise StructureError("a HistGradientBoosting tree has a bitset index out of range")
        if not np.all(categorical[feature[split]]):
            raise StructureError("a HistGradientBoosting tree makes a categorical split on a "
                                 "feature that is not categorical")


def _check_binary_tree(tree: Any) -> None:
    data, idx_array, node_data, bounds = (np.asarray(a) for a in tree.get_arrays())
    state = tree.__getstate__()
    n_nodes, leaf_size, metric, weights = int(state[6]), int(state[4]), state[11], state[12]
    what = _name(tree)
    if not isinstance(data, np.ndarray) or data.ndim != 2 or min(data.shape) < 1:
        raise StructureError(f"a {what} has no training points")
    n_samples, n_features = data.shape
    if (idx_array.ndim != 1 or idx_array.shape[0] != n_samples
            or np.any((idx_array < 0) | (idx_array >= n_samples))):
        raise StructureError(f"a {what}'s index array does not index its {n_samples} points")
    if n_nodes < 1 or node_data.shape != (n_nodes,) or leaf_size < 1:
        raise StructureError(f"a {what} declares {n_nodes} nodes but holds "
                             f"{node_data.shape[0]}")
    start, end = node_data["idx_start"], node_data["idx_end"]
    if np.any((start < 0) | (start > end) | (end > n_samples)):
        raise StructureError(f"a {what} has a node range outside its points")
    inner = np.flatnonzero(node_data["is_leaf"] == 0)
    if inner.size and int(inner.max()) * 2 + 2 >= n_nodes:
        raise StructureError(f"a {what} has an inner node without children")
    rows = 2 if isinstance(tree, _types()["kd"]) else 1  # KD: lower and upper; ball: centroid
    if bounds.shape != (rows, n_nodes, n_features):
        raise StructureError(f"a {what}'s node bounds have shape {bounds.shape}, expected "
                             f"{(rows, n_nodes, n_features)}")
    if weights is not None and np.asarray(weights).shape != (n_samples,):
        raise StructureError(f"a {what} has sample weights for other points")
    _check_metric(metric, n_features, what)


def _check_metric(metric: Any, n_features: int, what: str) -> None:
    from sklearn.metrics._dist_metrics import MinkowskiDistance64

    if isinstance(metric, MinkowskiDistance64):
        p, weights = metric.__getstate__()[:2]
        if not (isinstance(p, int | float) and p > 0 and math.isfinite(p)):
            raise StructureError(f"a {what}'s Minkowski metric has p = {p!r}")
        if np.asarray(weights).shape[0] not in (0, n_features):
            raise StructureError(f"a {what}'s Minkowski metric has weights for "
                                 f"{np.asarray(weights).shape[0]} features, not {n_features}")
