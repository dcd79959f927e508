"""Reference values for tally's experiment statistics, from scipy and statsmodels.

Reads {"welch": [[control, treatment], ...], "proportions": [[xc, nc, xt, nt], ...],
"chisquare": [[observed, weights], ...], "holm": [[p, ...], ...],
"power": [[n, variance, alpha, power], ...]} on stdin; prints the answers as JSON.
Every comparison is treatment minus control at 95 %.
"""
import json
import sys

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

cases = json.load(sys.stdin)
z975 = stats.norm.ppf(0.975)


def welch(control, treatment):
    a, b = np.asarray(control), np.asarray(treatment)
    result = stats.ttest_ind(b, a, equal_var=False)
    low, high = result.confidence_interval(0.95)
    ma, mb = a.mean(), b.mean()
    va, vb = a.var(ddof=1), b.var(ddof=1)
    lift = mb / ma - 1
    se = np.sqrt(vb / (len(b) * ma**2) + mb**2 * va / (len(a) * ma**4))
    return {
        "t": float(result.statistic), "df": float(result.df), "p": float(result.pvalue),
        "ci_low": float(low), "ci_high": float(high),
        "t_crit": float(stats.t.ppf(0.975, result.df)),
        "lift": float(lift), "lift_low": float(lift - z975 * se), "lift_high": float(lift + z975 * se),
    }


def proportions(xc, nc, xt, nt):
    z, p = proportions_ztest([xt, xc], [nt, nc])
    low, high = confint_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff")
    return {"z": float(z), "p": float(p), "ci_low": float(low), "ci_high": float(high)}


def chisquare(observed, weights):
    total = sum(observed)
    expected = [total * w / sum(weights) for w in weights]
    result = stats.chisquare(observed, f_exp=expected)
    return {"chi2": float(result.statistic), "p": float(result.pvalue)}


def power(n, variance, alpha, power):
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    mde = z * np.sqrt(2 * variance / n)
    return {"mde": float(mde), "n": float(2 * variance * z**2 / mde**2)}


print(json.dumps({
    "welch": [welch(a, b) for a, b in cases["welch"]],
    "proportions": [proportions(*c) for c in cases["proportions"]],
    "chisquare": [chisquare(o, w) for o, w in cases["chisquare"]],
    "holm": [list(map(float, multipletests(p, method="holm")[1])) for p in cases["holm"]],
    "power": [power(*c) for c in cases["power"]],
}))
