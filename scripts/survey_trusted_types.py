"""Find, empirically, which types skops reports as untrusted for common scikit-learn models.

Fits every estimator family that docs/model.md promises to load without ``trusted_types``
(small, seeded, offline data), dumps it with ``skops.io.dump`` and collects
``skops.io.get_untrusted_types``. Every type found must be in mlgate's reviewed list
(checks/trusted_types/*.yaml); the script prints the families, their types and the versions it
ran with, and exits 1 when a family needs a type the list lacks (after a scikit-learn, NumPy or
skops upgrade: review the new type, then add it). tests/model/test_trusted_types.py uses the
same families for its round trips.

    .venv/bin/python scripts/survey_trusted_types.py
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Fitted = tuple[Any, Any]  # (fitted estimator, the rows it predicts on)


def _classification() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    return x[:300, :8], y[:300]


def _regression() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    return x[:300], y[:300]


def _fit(estimator: Any, task: str) -> Fitted:
    x, y = _classification() if task == "classification" else _regression()
    return estimator.fit(x, y), x


def _pipeline() -> Fitted:
    """ColumnTransformer with OneHotEncoder, StandardScaler and SimpleImputer, mixed dtypes."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "tenure": rng.integers(0, 72, 400).astype(float),
        "charges": rng.normal(70, 20, 400),
        "plan": rng.choice(["basic", "standard", "premium"], 400),
        "region": rng.choice(["north", "south", None], 400),
    })
    frame.loc[::17, "charges"] = np.nan
    target = (frame["tenure"] < 20).astype(int) ^ (frame["plan"] == "premium").astype(int)
    numeric = Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())])
    categorical = Pipeline([
        ("impute", SimpleImputer(strategy="most_frequent")),
        ("encode", OneHotEncoder(handle_unknown="ignore")),
    ])
    features = ColumnTransformer([("numeric", numeric, ["tenure", "charges"]),
                                  ("categorical", categorical, ["plan", "region"])])
    model = Pipeline([("features", features), ("classifier", LogisticRegression())])
    return model.fit(frame, target), frame


def families() -> dict[str, Callable[[], Fitted]]:
    """Name -> a function that fits one model of that family (imports are lazy)."""
    from sklearn import ensemble, linear_model, naive_bayes, neighbors, neural_network, svm, tree

    c, r = "classification", "regression"
    specs: dict[str, tuple[Callable[[], Any], str]] = {
        "LogisticRegression": (lambda: linear_model.LogisticRegression(max_iter=3000), c),
        "LinearRegression": (linear_model.LinearRegression, r),
        "Ridge": (linear_model.Ridge, r),
        "DecisionTreeClassifier": (lambda: tree.DecisionTreeClassifier(random_state=0), c),
        "DecisionTreeRegressor": (lambda: tree.DecisionTreeRegressor(random_state=0), r),
        "RandomForestClassifier": (
            lambda: ensemble.RandomForestClassifier(n_estimators=10, random_state=0), c),
        "RandomForestRegressor": (
            lambda: ensemble.RandomForestRegressor(n_estimators=10, random_state=0), r),
        "GradientBoostingClassifier": (
            lambda: ensemble.GradientBoostingClassifier(n_estimators=10, random_state=0), c),
        "GradientBoostingRegressor": (
            lambda: ensemble.GradientBoostingRegressor(n_estimators=10, random_state=0), r),
        "HistGradientBoostingClassifier": (
            lambda: ensemble.HistGradientBoostingClassifier(max_iter=10, random_state=0), c),
        "HistGradientBoostingRegressor": (
            lambda: ensemble.HistGradientBoostingRegressor(max_iter=10, random_state=0), r),
        "SVC": (lambda: svm.SVC(random_state=0), c),
        "SVR": (svm.SVR, r),
        "KNeighborsClassifier": (
            lambda: neighbors.KNeighborsClassifier(algorithm="kd_tree"), c),
        "KNeighborsRegressor": (lambda: neighbors.KNeighborsRegressor(algorithm="ball_tree"), r),
        "KNeighborsClassifier(manhattan)": (
            lambda: neighbors.KNeighborsClassifier(metric="manhattan", algorithm="kd_tree"), c),
        "KNeighborsRegressor(chebyshev)": (
            lambda: neighbors.KNeighborsRegressor(metric="chebyshev", algorithm="ball_tree"), r),
        "KNeighborsClassifier(minkowski p=3)": (
            lambda: neighbors.KNeighborsClassifier(p=3, algorithm="ball_tree"), c),
        "GaussianNB": (naive_bayes.GaussianNB, c),
        "MLPClassifier": (
            lambda: neural_network.MLPClassifier(max_iter=300, random_state=0), c),
        "MLPRegressor": (
            lambda: neural_network.MLPRegressor(max_iter=300, random_state=0), r),
        "MLPClassifier(sgd)": (
            lambda: neural_network.MLPClassifier(solver="sgd", max_iter=100, random_state=0), c),
    }

    def fitter(make: Callable[[], Any], task: str) -> Callable[[], Fitted]:
        return lambda: _fit(make(), task)

    built: dict[str, Callable[[], Fitted]] = {
        name: fitter(make, task) for name, (make, task) in specs.items()
    }
    built["Pipeline(ColumnTransformer, OneHotEncoder, StandardScaler, SimpleImputer)"] = _pipeline
    return built


def untrusted_types(model: Any) -> list[str]:
    """What skops reports as untrusted after dumping ``model``."""
    import skops.io as sio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.skops"
        sio.dump(model, path)
        return sorted(sio.get_untrusted_types(file=path))


def versions() -> dict[str, str]:
    import scipy
    import sklearn
    import skops

    return {"python": ".".join(map(str, sys.version_info[:2])), "scikit-learn":
            sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "skops": skops.__version__}


def main() -> int:
    from mlgate.model.trusted_types import default_trusted_types, shipped_lists

    warnings.filterwarnings("ignore")  # convergence warnings of the small fits
    listed = default_trusted_types()
    found: dict[str, list[str]] = {}
    for name, fit in families().items():
        model, _ = fit()
        found[name] = untrusted_types(model)
        print(f"{name}: {', '.join(found[name]) or '-'}")
    union = sorted({t for types in found.values() for t in types})
    missing = [t for t in union if t not in listed]
    print(f"\nran with {versions()}")
    for lst in shipped_lists():
        print(f"{lst.path.name} v{lst.version} reviewed against {lst.reviewed_against}")
    print(f"found: {', '.join(union)}")
    print(f"listed but not found by this survey: {', '.join(sorted(listed - set(union))) or '-'}")
    if missing:
        print(f"NOT IN THE LIST (review, then add): {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
