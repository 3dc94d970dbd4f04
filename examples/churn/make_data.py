"""Generate the example's churn-like data sets, deterministically (fixed seed).

The example needs mixed column types (ids, integers, floats, categories), a real but noisy
signal, and enough rows for the model gate's confidence intervals to mean something; no
bundled scikit-learn data set is shaped like a churn table, so we draw one from a known
logistic model. Re-running this script reproduces the committed CSV files byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261125
HERE = Path(__file__).parent

CONTRACTS = ["month-to-month", "one-year", "two-year"]
PLANS = ["basic", "standard", "premium"]
REGIONS = ["north", "south", "east", "west"]


def churn_table(rows: int, rng: np.random.Generator, start_id: int = 1) -> pd.DataFrame:
    """Draw ``rows`` customers and whether each churned."""
    contract = rng.choice(CONTRACTS, size=rows, p=[0.55, 0.25, 0.20])
    plan = rng.choice(PLANS, size=rows, p=[0.4, 0.4, 0.2])
    region = rng.choice(REGIONS, size=rows, p=[0.3, 0.3, 0.2, 0.2])
    tenure = np.clip(rng.gamma(2.0, 14.0, size=rows), 0, 72).round().astype(int)
    base = {"basic": 35.0, "standard": 65.0, "premium": 95.0}
    monthly = np.array([base[p] for p in plan]) + rng.normal(0, 8, size=rows)
    monthly = np.clip(monthly, 18.0, 120.0).round(2)
    total = (monthly * np.maximum(tenure, 1) * rng.uniform(0.95, 1.05, size=rows)).round(2)
    support_calls = rng.poisson(1.5, size=rows)
    partner = rng.choice(["yes", "no"], size=rows, p=[0.45, 0.55])
    logit = (
        -0.6
        - 0.05 * tenure
        + 0.025 * (monthly - 65.0)
        + 0.45 * support_calls
        + np.where(contract == "month-to-month", 1.3, 0.0)
        - np.where(contract == "two-year", 1.0, 0.0)
        - np.where(partner == "yes", 0.4, 0.0)
    )
    churned = (rng.uniform(size=rows) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(start_id, start_id + rows)],
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": total,
            "contract": contract,
            "plan": plan,
            "region": region,
            "support_calls": support_calls,
            "partner": partner,
            "churned": churned,
        }
    )


def main() -> None:
    rng = np.random.default_rng(SEED)
    data_dir = HERE / "data"
    data_dir.mkdir(exist_ok=True)
    train = churn_table(6000, rng, start_id=1)
    holdout = churn_table(3000, rng, start_id=100001)
    serving = churn_table(1000, rng, start_id=200001).drop(columns=["churned"])
    train.to_csv(data_dir / "train.csv", index=False)
    train.sample(n=2000, random_state=SEED).to_csv(data_dir / "reference.csv", index=False)
    holdout.to_csv(data_dir / "holdout.csv", index=False)
    serving.to_csv(data_dir / "serving_sample.csv", index=False)


if __name__ == "__main__":
    main()
