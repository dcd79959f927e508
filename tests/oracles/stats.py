"""Reference values for tally's statistics, from statsmodels, scipy and numpy.

Reads {"wilson": [[successes, n], ...], "slopes": [[[x, y], ...], ...],
"percentiles": [[[values], q], ...]} on stdin; prints the answers as JSON.
"""
import json
import sys

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

cases = json.load(sys.stdin)
print(json.dumps({
    "wilson": [list(proportion_confint(s, n, alpha=0.05, method="wilson")) for s, n in cases["wilson"]],
    "slopes": [stats.linregress([p[0] for p in points], [p[1] for p in points]).slope for points in cases["slopes"]],
    "percentiles": [float(np.percentile(values, q * 100)) for values, q in cases["percentiles"]],
}))
