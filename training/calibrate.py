"""Temperature scaling: one softmax temperature per head, fitted on the dev split after training.

A fine-tuned classifier is usually over-confident; dividing its logits by a temperature T > 1 fixes
much of that without changing any prediction (Guo et al., 2017, "On Calibration of Modern Neural
Networks").
"""

from __future__ import annotations

import numpy as np


def fit_temperature(log_probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels``.

    Args:
        log_probs: (n, classes) log-probabilities (or logits) of the current model.
        labels: (n,) gold class indices.

    Returns:
        T in [0.05, 20], searched on a log grid and refined around the best point.
    """
    if len(labels) == 0:
        return 1.0

    def nll(t: float) -> float:
        z = log_probs / t
        z = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(log_norm - z[np.arange(len(labels)), labels]))

    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 121))
    best = grid[int(np.argmin([nll(t) for t in grid]))]
    fine = np.exp(np.linspace(np.log(best) - 0.06, np.log(best) + 0.06, 61))
    return float(fine[int(np.argmin([nll(t) for t in fine]))])


def calibrate_checkpoint(path, config, dev_articles: list[dict], batch_size: int) -> dict[str, float]:
    """Fit both heads' temperatures on the dev articles and rewrite the checkpoint with them."""
    import json
    from pathlib import Path

    from factattr.model.checkpoint import load_checkpoint, save_checkpoint
    from factattr.model.inference import predict_probs

    model, tokenizer, _ = load_checkpoint(path)
    model.config.temperatures = {"source": 1.0, "claim_type": 1.0}
    texts = [a["text"] for a in dev_articles]
    spans = [[(s["start"], s["end"]) for s in a["sentences"]] for a in dev_articles]
    probs = predict_probs(model, tokenizer, texts, spans, batch_size)
    temperatures = {}
    for h, (head, labels) in enumerate((("source", model.config.source_labels), ("claim_type", model.config.claim_labels))):
        gold = np.array([labels.index(s[head]) for a in dev_articles for s in a["sentences"]])
        log_probs = np.log(np.concatenate([p[h] for p in probs]) + 1e-12)
        temperatures[head] = fit_temperature(log_probs, gold)
    model.config.temperatures = temperatures
    metrics = json.loads((Path(path) / "metrics.json").read_text(encoding="utf-8"))
    metrics.update({f"{head}_temperature": t for head, t in temperatures.items()})
    save_checkpoint(path, model, tokenizer, config, metrics)
    return temperatures
