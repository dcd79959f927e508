"""Held-out forecasts of statsmodels' ExponentialSmoothing on real series statsmodels
ships (the data is inside the package): co2 (weekly), sunspots (yearly) and nile
(yearly).

Reads {"series": [{"name", "held_out", "trend", "seasonal", "seasonal_periods"}, ...]}
on stdin; prints, per series, its values (null where missing), the statsmodels forecast
of the held-out tail fitted on the points before it, and the first timestamp.
"""
import json
import sys
import warnings

missing = []
try:
    import numpy as np
except ImportError:
    missing.append("numpy")
try:
    import statsmodels.api as sm
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
except ImportError:
    missing.append("statsmodels")
if missing:
    sys.exit("missing Python packages; install them with `python3 -m pip install " + " ".join(missing) + "`")

warnings.filterwarnings("ignore")
cases = json.load(sys.stdin)


def load(name):
    if name == "co2":
        data = sm.datasets.co2.load_pandas().data["co2"]
        return [None if np.isnan(v) else float(v) for v in data.values], data.interpolate().values
    if name == "sunspots":
        values = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].values
    else:
        values = sm.datasets.nile.load_pandas().data["volume"].values
    return [float(v) for v in values], values.astype(float)


out = []
for case in cases["series"]:
    raw, filled = load(case["name"])
    train = filled[: -case["held_out"]]
    model = ExponentialSmoothing(
        train,
        trend=case["trend"],
        seasonal=case["seasonal"],
        seasonal_periods=case["seasonal_periods"],
    ).fit()
    out.append({
        "name": case["name"],
        "values": raw,
        "forecast": [float(v) for v in model.forecast(case["held_out"])],
    })
print(json.dumps(out))
