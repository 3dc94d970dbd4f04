"""Crafted tree and neighbour structures are refused before anything runs the model.

Each test fits a real model, shows that the clean file loads, then corrupts one field that
scikit-learn's compiled code follows without bounds checks (the way a crafted .skops file
would), dumps it with skops, and checks that the loader refuses it naming the file. None of
the corrupted models is ever used to predict: that is what the check prevents.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.datasets import load_breast_cancer

from mlgate.errors import InputError
from mlgate.model.loading import LoadRules, load_model
from tests.support.cli import run_mlgate

X, Y = load_breast_cancer(return_X_y=True)
X, Y = X[:300, :6], Y[:300]
Y3 = np.arange(300) % 3  # multiclass target


def dump(model: Any, path: Path) -> Path:
    sio.dump(model, path)
    return path


def refused(path: Path, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        load_model(path, LoadRules())
    assert caught.value.source == str(path)
    assert "refusing to use this model" in caught.value.message
    assert fragment in caught.value.message, caught.value.message


def clean_then_corrupt(tmp_path: Path, model: Any, corrupt: Callable[[Any], None]) -> Path:
    """The control (the clean model loads and predicts as before), then the corrupted file."""
    clean = load_model(dump(model, tmp_path / "clean.skops"), LoadRules())
    assert np.array_equal(clean.predict(X), model.predict(X))
    corrupt(model)
    return dump(model, tmp_path / "crafted.skops")


def tree_nodes(model: Any) -> Any:
    """The tree's node array, a view on the tree's own memory (edits change the tree)."""
    return model.tree_.__getstate__()["nodes"]


def first_internal(nodes: Any) -> int:
    return int(np.flatnonzero(nodes["left_child"] != -1)[0])


def test_tree_child_out_of_range(tmp_path: Path) -> None:
    from sklearn.tree import DecisionTreeClassifier

    def corrupt(model: Any) -> None:
        nodes = tree_nodes(model)
        nodes["left_child"][first_internal(nodes)] = 10_000_000

    path = clean_then_corrupt(tmp_path, DecisionTreeClassifier(random_state=0).fit(X, Y), corrupt)
    refused(path, "decision tree node 0 has a child index out of range")


def test_tree_cycle_back_to_a_parent(tmp_path: Path) -> None:
    from sklearn.tree import DecisionTreeRegressor

    def corrupt(model: Any) -> None:
        nodes = tree_nodes(model)
        internal = np.flatnonzero(nodes["left_child"] != -1)
        nodes["right_child"][internal[1]] = 0  # back to the root: predict would never stop

    path = clean_then_corrupt(tmp_path, DecisionTreeRegressor(random_state=0).fit(X, Y), corrupt)
    refused(path, "child index out of range")


def test_tree_feature_out_of_range(tmp_path: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier

    def corrupt(model: Any) -> None:
        nodes = tree_nodes(model.estimators_[3])
        nodes["feature"][0] = 4096

    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt), "splits on a feature index out of range")


def test_tree_deeper_than_declared(tmp_path: Path) -> None:
    """decision_path() allocates max_depth + 1 slots per row and writes one per level."""
    from sklearn.tree import DecisionTreeClassifier

    def corrupt(model: Any) -> None:
        state = model.tree_.__getstate__()
        model.tree_.__setstate__({**state, "max_depth": 1})

    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt), "deep but declares 1")


def test_tree_node_count_other_than_its_nodes(tmp_path: Path) -> None:
    """node_count comes from the file, apart from the node array (scikit-learn clamps a larger
    count; a smaller one leaves children pointing beyond the tree's views)."""
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, Y)
    path = dump(model, tmp_path / "crafted.skops")
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    count = schema["content"]["content"]["tree_"]["content"]["content"]["node_count"]
    count.update(content="3", __id__=1)  # a fresh id: not shared with another "7"
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    refused(path, "a decision tree declares 3 nodes but holds 7")


def test_forest_without_its_input_width(tmp_path: Path) -> None:
    """A forest calls its trees without their input check: only its own n_features_in_ bounds
    the rows' width."""
    from sklearn.ensemble import ExtraTreesRegressor

    def corrupt(model: Any) -> None:
        del model.n_features_in_

    model = ExtraTreesRegressor(n_estimators=3, random_state=0).fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt), "has no valid n_features_in_")


def test_tree_owner_narrower_than_its_tree(tmp_path: Path) -> None:
    from sklearn.tree import DecisionTreeClassifier

    def corrupt(model: Any) -> None:
        model.n_features_in_ = 2

    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt),
            "DecisionTreeClassifier.n_features_in_ is 2 but its tree reads 6 features")


def test_gradient_boosting_grid_wider_than_its_output(tmp_path: Path) -> None:
    """predict_stages writes tree k's output into column k of a buffer n_trees_per_iteration_
    wide."""
    from sklearn.ensemble import GradientBoostingClassifier

    def corrupt(model: Any) -> None:
        model.n_trees_per_iteration_ = 1

    model = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X, Y3)
    clean = load_model(dump(model, tmp_path / "clean.skops"), LoadRules())
    assert np.array_equal(clean.predict(X), model.predict(X))
    corrupt(model)
    refused(dump(model, tmp_path / "crafted.skops"),
            "has 3 trees per stage but n_trees_per_iteration_ is 1")


def test_gradient_boosting_init_narrower_than_its_grid(tmp_path: Path) -> None:
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X, Y3)
    model.init_.classes_ = model.init_.classes_[:1]
    model.init_.n_classes_ = 1
    refused(dump(model, tmp_path / "crafted.skops"), "initial predictions are narrower")


def hist_nodes(model: Any) -> Any:
    return model._predictors[0][0].nodes


def test_hist_gradient_boosting_child_out_of_range(tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    def corrupt(model: Any) -> None:
        nodes = hist_nodes(model)
        nodes["right"][int(np.flatnonzero(nodes["is_leaf"] == 0)[0])] = 4_000_000

    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt), "child index out of range")


def test_hist_gradient_boosting_feature_out_of_range(tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    def corrupt(model: Any) -> None:
        hist_nodes(model)["feature_idx"][0] = 6

    model = HistGradientBoostingRegressor(max_iter=3, random_state=0).fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt), "feature index out of range")


def test_hist_gradient_boosting_categorical_split_on_a_numeric_feature(tmp_path: Path) -> None:
    """The bitset of known categories has a row per categorical feature only."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def corrupt(model: Any) -> None:
        predictor = model._predictors[0][0]
        predictor.raw_left_cat_bitsets = np.zeros((1, 8), dtype=np.uint32)
        predictor.binned_left_cat_bitsets = np.zeros((1, 8), dtype=np.uint32)
        hist_nodes(model)["is_categorical"][0] = 1

    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt),
            "categorical split on a feature that is not categorical")


def test_hist_predictor_outside_a_model(tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=2, random_state=0).fit(X, Y)
    refused(dump({"predictor": model._predictors[0][0]}, tmp_path / "loose.skops"),
            "tree predictor outside a fitted model")


def test_kd_tree_index_out_of_range(tmp_path: Path) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    def corrupt(model: Any) -> None:
        model._tree.get_arrays()[1][5] = 10**9  # idx_array: which training row a slot is

    model = KNeighborsClassifier(algorithm="kd_tree").fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt), "index array does not index")


def test_ball_tree_inner_node_without_children(tmp_path: Path) -> None:
    from sklearn.neighbors import KNeighborsRegressor

    def corrupt(model: Any) -> None:
        model._tree.get_arrays()[2]["is_leaf"][-1] = 0  # the last node claims children

    model = KNeighborsRegressor(algorithm="ball_tree").fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt), "inner node without children")


def test_minkowski_weights_for_fewer_features(tmp_path: Path) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    def corrupt(model: Any) -> None:
        metric = model._tree.__getstate__()[11]
        p, _, mat = metric.__getstate__()
        metric.__setstate__((p, np.ones(2), mat))

    model = KNeighborsClassifier(algorithm="ball_tree", p=3,
                                 metric_params={"w": np.ones(6)}).fit(X, Y)
    refused(clean_then_corrupt(tmp_path, model, corrupt),
            "Minkowski metric has weights for 2 features, not 6")


def test_gate_model_refuses_a_crafted_tree_with_one_line(
    tmp_path: Path, clean_github_env: None
) -> None:
    import pandas as pd
    from sklearn.tree import DecisionTreeClassifier

    columns = [f"x{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns).assign(y=Y)
    frame.to_csv(tmp_path / "holdout.csv", index=False)
    model = DecisionTreeClassifier(random_state=0).fit(frame[columns], Y)
    nodes = tree_nodes(model)
    nodes["feature"][first_internal(nodes)] = -3
    dump(model, tmp_path / "model.skops")
    result = run_mlgate(["gate-model", "--model", "model.skops", "--data", "holdout.csv",
                         "--target", "y"], cwd=tmp_path)
    assert result.code == 2
    assert result.error_line.startswith(f"mlgate: error: {tmp_path / 'model.skops'}: "
                                        "refusing to use this model: a decision tree splits")
    assert len(result.stderr.strip().splitlines()) == 1
