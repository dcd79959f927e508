"""Reference p-values of the one-sided exact binomial test behind alert baselines.

Reads [[failures, events, baseline_rate], ...] on stdin; prints the p-values of
scipy.stats.binomtest(failures, events, baseline_rate, alternative="greater") as JSON.
"""
import json
import sys

from scipy import stats

cases = json.load(sys.stdin)
print(json.dumps([stats.binomtest(k, n, p, alternative="greater").pvalue for k, n, p in cases]))
