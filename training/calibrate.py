"""Temperature scaling: one softmax temperature per head, fitted on the dev split after training.

A fine-tuned classifier is usually over-confident; dividing its logits by a temperature T > 1 fixes
much of that without changing any prediction (Guo et al., 2017, "On Calibration of Modern Neural
Networks").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax


def fit_temperature(log_probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels``.

    Args:
        log_probs: (n, classes) log-probabilities (or logits) of the current model.
        labels: (n,) gold class indices.

    Returns:
        T in [0.05, 20], found by scipy's bounded scalar minimisation over log T.
    """
    if len(labels) == 0:
        return 1.0
    rows = np.arange(len(labels))

    def nll(log_t: float) -> float:
        return float(-np.mean(log_softmax(log_probs / np.exp(log_t), axis=1)[rows, labels]))

    found = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(found.x))


def calibrate_checkpoint(path, config, dev_articles: list, windows_per_pass: int) -> dict[str, float]:
    """Fit every head's temperature on the dev articles and rewrite the checkpoint with them."""
    from factattr.model.checkpoint import load_checkpoint, save_checkpoint
    from factattr.model.inference import predict_probs

    model, tokenizer, _ = load_checkpoint(path)
    model.config.temperatures = {head: 1.0 for head in model.config.labels}
    probs = predict_probs(model, tokenizer, [a.text for a in dev_articles], [a.spans for a in dev_articles],
                          windows_per_pass)
    temperatures = {}
    for head, labels in model.config.labels.items():
        gold = np.array([labels.index(label) for a in dev_articles for label in a.gold(head)])
        log_probs = np.log(np.concatenate([p[head] for p in probs]) + 1e-12)
        temperatures[head] = fit_temperature(log_probs, gold)
    model.config.temperatures = temperatures
    metrics = json.loads((Path(path) / "metrics.json").read_text(encoding="utf-8"))
    metrics.update({f"{head}_temperature": t for head, t in temperatures.items()})
    save_checkpoint(path, model, tokenizer, config, metrics)
    return temperatures
