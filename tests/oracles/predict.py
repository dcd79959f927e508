"""Reference values for tally's success predictor, from scikit-learn.

Reads {"train": CSV, "test": CSV, "trees": T, "min_samples_leaf": L,
"cases": [{"y": [0/1, ...], "p": [P(class 1), ...], "bins": B}, ...]} on stdin (the CSVs
in the feature format, label last). Prints {"auc": test ROC AUC of
RandomForestClassifier(n_estimators=T, min_samples_leaf=L, n_jobs=1) trained on train,
"cases": [{"roc_auc", "log_loss", "brier", "prob_true", "prob_pred"}, ...]} with each
case's metrics from sklearn.metrics and calibration_curve(strategy="uniform").
"""
import json
import sys

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

request = json.load(sys.stdin)
train = np.loadtxt(request["train"], delimiter=",", skiprows=1)
test = np.loadtxt(request["test"], delimiter=",", skiprows=1)
model = RandomForestClassifier(
    n_estimators=request["trees"], min_samples_leaf=request["min_samples_leaf"], n_jobs=1, random_state=0
)
model.fit(train[:, :7], train[:, 7].astype(int))
auc = roc_auc_score(test[:, 7].astype(int), model.predict_proba(test[:, :7])[:, 1])

answers = []
for case in request["cases"]:
    y, p = np.asarray(case["y"], dtype=int), np.asarray(case["p"], dtype=float)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=case["bins"], strategy="uniform")
    answers.append({
        "roc_auc": float(roc_auc_score(y, p)),
        "log_loss": float(log_loss(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "prob_true": prob_true.tolist(),
        "prob_pred": prob_pred.tolist(),
    })
print(json.dumps({"auc": float(auc), "cases": answers}))
