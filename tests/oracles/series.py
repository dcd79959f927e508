"""Reference values for tally's series statistics: pymannkendall, scipy and statsmodels.

Reads {"mann_kendall": [[values], ...], "linregress": [[[x...], [y...]], ...],
"kruskal": [[[group], ...], ...], "holt_winters": [{"values", "season_length", "alpha",
"beta", "gamma", "initial_level", "initial_trend", "initial_seasonal", "horizon"}, ...]}
on stdin; prints the answers as JSON.
"""
import json
import sys

missing = []
try:
    import numpy as np
except ImportError:
    missing.append("numpy")
try:
    from scipy import stats
except ImportError:
    missing.append("scipy")
try:
    import pymannkendall
except ImportError:
    missing.append("pymannkendall")
try:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
except ImportError:
    missing.append("statsmodels")
if missing:
    sys.exit("missing Python packages; install them with `python3 -m pip install " + " ".join(missing) + "`")

cases = json.load(sys.stdin)


def mann_kendall(values):
    r = pymannkendall.original_test(np.array(values, dtype=float))
    return {"s": float(r.s), "var_s": float(r.var_s), "z": float(r.z), "p": float(r.p),
            "tau": float(r.Tau), "slope": float(r.slope), "intercept": float(r.intercept)}


def linregress(xs, ys):
    r = stats.linregress(xs, ys)
    return {"slope": r.slope, "intercept": r.intercept, "rvalue": r.rvalue, "pvalue": r.pvalue,
            "stderr": r.stderr, "intercept_stderr": r.intercept_stderr}


def kruskal(groups):
    r = stats.kruskal(*groups)
    return {"h": float(r.statistic), "p": float(r.pvalue)}


def holt_winters(case):
    model = ExponentialSmoothing(
        np.array(case["values"], dtype=float),
        trend="add",
        seasonal="add",
        seasonal_periods=case["season_length"],
        initialization_method="known",
        initial_level=case["initial_level"],
        initial_trend=case["initial_trend"],
        initial_seasonal=np.array(case["initial_seasonal"], dtype=float),
    )
    fit = model.fit(
        smoothing_level=case["alpha"],
        smoothing_trend=case["beta"],
        smoothing_seasonal=case["gamma"],
        optimized=False,
    )
    return [float(v) for v in fit.forecast(case["horizon"])]


print(json.dumps({
    "mann_kendall": [mann_kendall(v) for v in cases["mann_kendall"]],
    "linregress": [linregress(x, y) for x, y in cases["linregress"]],
    "kruskal": [kruskal(g) for g in cases["kruskal"]],
    "holt_winters": [holt_winters(c) for c in cases["holt_winters"]],
}))
