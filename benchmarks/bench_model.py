"""Paired bootstrap of metric differences: mlgate's vectorised engine vs a naive sklearn loop.

Usage: python benchmarks/bench_model.py [--quick] [--rows N] [--resamples R] [--naive R]
                                        [--repeat K] [--classes C]

Both compute, for two models scored on the same rows, a 95% interval of
metric(candidate) - metric(champion) over bootstrap resamples, for ROC AUC and log loss
(``--classes C`` above 2: one-vs-rest macro ROC AUC over C classes). The
naive loop is what one writes by hand: draw indices, call sklearn for each model, repeat. It
is timed on ``--naive`` resamples (default 20) and extrapolated linearly to ``--resamples``
(the loop's cost per resample is constant), which the output says. ``--repeat K`` times each
vectorised engine K times and reports every run plus the median (a shared VM's timings vary by
+-10% from run to run); the speed-up uses the median.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def synthetic(rows: int, seed: int = 0) -> tuple[np.ndarray, object, object]:
    from mlgate.model.metrics import Outputs

    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.3).astype(np.int64)
    signal = y * 1.2

    def model(noise: float) -> Outputs:
        score = 1 / (1 + np.exp(-(signal - 0.6 + rng.normal(0, noise, rows))))
        return Outputs((score > 0.5).astype(np.int64), np.column_stack([1 - score, score]))

    return y, model(1.0), model(1.1)


def synthetic_multiclass(rows: int, classes: int, seed: int = 0) -> tuple:
    """Softmax scores (6 decimals) with signal on the true class; classes of unequal size."""
    from mlgate.model.metrics import Outputs

    rng = np.random.default_rng(seed)
    shares = np.arange(1, classes + 1) / np.arange(1, classes + 1).sum()
    y = rng.choice(classes, rows, p=shares)

    def model(noise: float) -> Outputs:
        logits = rng.normal(0, noise, (rows, classes))
        logits[np.arange(rows), y] += 1.2
        proba = np.exp(logits)
        proba /= proba.sum(axis=1, keepdims=True)
        return Outputs(proba.argmax(axis=1), proba)

    return y, model(1.0), model(1.1)


def naive(y: np.ndarray, cand, champ, resamples: int, seed: int) -> dict[str, tuple]:
    from sklearn.metrics import log_loss, roc_auc_score

    rng = np.random.default_rng(seed)
    diffs: dict[str, list[float]] = {"roc_auc": [], "log_loss": []}
    n = len(y)
    labels = list(range(cand.proba.shape[1]))

    def auc(yy: np.ndarray, proba: np.ndarray) -> float:
        if len(labels) == 2:
            return float(roc_auc_score(yy, proba[:, 1]))
        return float(roc_auc_score(yy, proba, multi_class="ovr", labels=labels))

    for _ in range(resamples):
        idx = rng.integers(0, n, n)
        yy = y[idx]
        diffs["roc_auc"].append(auc(yy, cand.proba[idx]) - auc(yy, champ.proba[idx]))
        diffs["log_loss"].append(
            log_loss(yy, cand.proba[idx], labels=labels)
            - log_loss(yy, champ.proba[idx], labels=labels)
        )
    return {k: tuple(np.quantile(v, [0.025, 0.975])) for k, v in diffs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k rows, 200 resamples")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--naive", type=int, default=20, help="resamples actually timed naive")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per vectorised engine")
    parser.add_argument("--classes", type=int, default=2, help="number of classes (default 2)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.resamples, args.naive = 100_000, 200, 10
    from mlgate.model.bootstrap import paired_bootstrap

    if args.classes > 2:
        y, cand, champ = synthetic_multiclass(args.rows, args.classes)
    else:
        y, cand, champ = synthetic(args.rows)
    metrics = ["roc_auc", "log_loss"]
    print(f"paired bootstrap, {args.rows:,} rows, {args.classes} classes, "
          f"{args.resamples:,} resamples, {metrics}")
    for method in ("auto", "multinomial") if args.rows > 200_000 else ("auto",):
        times = []
        for _ in range(max(1, args.repeat)):
            started = time.perf_counter()
            res = paired_bootstrap(
                y, cand, champ, metrics, args.classes, args.resamples, 0.95, seed=0,
                method=method,
            )
            times.append(time.perf_counter() - started)
        took = statistics.median(times)
        chosen = res["roc_auc"].method
        runs = ", ".join(f"{t:.2f}" for t in times)
        detail = f" (median of {len(times)} runs: {runs} s)" if len(times) > 1 else ""
        print(f"  mlgate vectorised ({chosen}): {took:7.2f} s{detail}")
        for name, iv in res.items():
            ci = f"[{iv.low:+.5f}, {iv.high:+.5f}]"
            print(f"    {name:9s} diff {iv.difference:+.5f}  95% CI {ci}")
        if method == "auto":
            fast = took
    started = time.perf_counter()
    ref = naive(y, cand, champ, args.naive, seed=0)
    per = (time.perf_counter() - started) / args.naive
    estimate = per * args.resamples
    print(
        f"  naive sklearn loop: {per:.3f} s per resample, timed on {args.naive} resamples;"
        f" extrapolated to {args.resamples:,}: {estimate:7.1f} s"
    )
    for name, (lo, hi) in ref.items():
        print(f"    {name:9s} 95% CI over {args.naive} resamples only [{lo:+.5f}, {hi:+.5f}]")
    print(f"  speed-up: {estimate / fast:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
