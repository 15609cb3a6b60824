"""Metrics on hand-made cases with known answers, alignment, baselines, and a full report."""

import json

import numpy as np
import pytest

from factattr.eval.align import align
from factattr.eval.baselines import MajorityBaseline, RuleBaseline, TfidfBaseline
from factattr.eval.metrics import bootstrap_macro_f1, calibration, head_metrics, macro_f1, paired_bootstrap
from factattr.data.types import Sentence

from .conftest import REPO

LABELS = ["a", "b", "c"]


def test_head_metrics_known_values():
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    m = head_metrics(gold, pred, LABELS)
    # a: P 2/2 R 2/3 F 0.8; b: P 1/2 R 1/2 F 0.5; c: P 1/2 R 1/1 F 2/3
    assert m["per_label"]["a"] == {"precision": 1.0, "recall": pytest.approx(2 / 3), "f1": pytest.approx(0.8), "support": 3}
    assert m["per_label"]["b"]["f1"] == pytest.approx(0.5)
    assert m["per_label"]["c"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["weighted_f1"] == pytest.approx((3 * 0.8 + 2 * 0.5 + 1 * 2 / 3) / 6)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_macro_f1_leaves_out_labels_absent_from_gold_and_predictions():
    assert macro_f1(["a", "b"], ["a", "b"], LABELS) == 1.0           # c never occurs: not averaged
    assert macro_f1(["a", "a"], ["a", "c"], LABELS) == pytest.approx((2 / 3 + 0) / 2)  # c predicted: counted


def test_calibration_known_values():
    result = calibration(np.array([0.95, 0.95, 0.55, 0.55]), np.array([1, 0, 1, 1]), bins=10)
    # bin (0.9, 1]: confidence 0.95, accuracy 0.5; bin (0.5, 0.6]: confidence 0.55, accuracy 1.0
    assert result["ece"] == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)
    assert sum(b["count"] for b in result["bins"]) == 4


def test_bootstrap_interval_brackets_the_score():
    gold = ["a", "b", "c"] * 20
    pred = ["a", "b", "a"] * 20
    groups = [f"art{i // 6}" for i in range(60)]
    low, high = bootstrap_macro_f1(gold, pred, groups, LABELS, samples=200)
    assert low <= macro_f1(gold, pred, LABELS) <= high
    perfect = bootstrap_macro_f1(gold, gold, groups, LABELS, samples=50)
    assert perfect == (1.0, 1.0)


def test_alignment_counts_exact_split_fused_and_unaligned():
    text = "One two. Three four. Five six."
    gold = [(0, 8), (9, 20), (21, 30)]
    assert align(text, gold, gold).exact == 3
    fused = align(text, gold, [(0, 20), (21, 30)])
    assert fused.gold_to_pred == [0, 0, 1] and fused.exact == 1 and fused.partial == 2
    split = align(text, gold, [(0, 4), (4, 8), (9, 20), (21, 30)])
    assert split.gold_to_pred == [1, 2, 3] and split.unaligned_pred == 0  # "two." overlaps most
    missing = align(text, gold, [(0, 8)])
    assert missing.gold_to_pred == [0, None, None] and missing.unaligned_gold == 2


HEAD_LABELS = {"source": ["syrian_army", "other", "none"], "claim_type": ["casualties", "military_action", "background"]}
TRAIN = [Sentence(0, len(text), text, {"source": source, "claim_type": claim}) for text, source, claim in [
    ("The army said 20 were killed.", "syrian_army", "casualties"),
    ("Activists said jets struck Idlib.", "other", "military_action"),
    ("Idlib is a province.", "none", "background"),
    ("Another province is Hama.", "none", "background")]]


def test_majority_baseline():
    out = MajorityBaseline(HEAD_LABELS).fit(TRAIN).predict([["x", "y"]])
    assert out["source"][0] == ["none", "none"] and out["source"][1][0].tolist() == [0.25, 0.25, 0.5]


def test_rule_baseline_uses_cues_gazetteer_and_carries_continuations():
    from factattr.config import AttributionRules, KeywordRules, load_config

    default = load_config(REPO / "configs" / "default.yaml", check_files=False).evaluation.rules["claim_type"].patterns
    rules = RuleBaseline(HEAD_LABELS, {
        "source": AttributionRules(kind="attribution", names={"syrian_army": ["sana", "syrian army"], "other": ["observatory"]},
                                   narration="none", unknown_speaker="other"),
        "claim_type": KeywordRules(kind="keywords", fallback="background",
                                   patterns={k: default[k] for k in ("casualties", "military_action")})}).fit(TRAIN)
    article = ["SANA said 20 militants were killed in Palmyra.", "\u201cThe operation continues,\u201d it added.",
               "The Observatory said jets struck Idlib.", "He said more strikes came.", "Idlib is a province."]
    out = rules.predict([article])
    assert out["source"][0] == ["syrian_army", "syrian_army", "other", "other", "none"]
    assert out["claim_type"][0] == ["casualties", "military_action", "military_action", "military_action", "background"]


def test_tfidf_baseline_learns_words():
    out = TfidfBaseline(HEAD_LABELS).fit(TRAIN * 3).predict([["Activists said jets struck Hama."]])
    assert out["source"][0] == ["other"] and out["source"][1].shape == (1, 3)


def test_paired_bootstrap_difference_interval_and_sentence_counts():
    gold = ["a", "b", "c"] * 20
    worse = ["a", "b", "a"] * 20                    # every "c" wrong: 20 sentences
    groups = [f"art{i // 6}" for i in range(60)]
    c = paired_bootstrap(gold, gold, worse, groups, LABELS, samples=200)
    assert c["difference"] == pytest.approx(1.0 - macro_f1(gold, worse, LABELS))
    assert 0 < c["ci95"][0] <= c["difference"] <= c["ci95"][1] and c["a_ahead"] == 1.0
    assert (c["only_a_right"], c["only_b_right"]) == (20, 0)
    same = paired_bootstrap(gold, worse, worse, groups, LABELS, samples=50)
    assert same["difference"] == 0 and same["ci95"] == [0.0, 0.0] and same["a_ahead"] == 0.0
    assert (same["only_a_right"], same["only_b_right"]) == (0, 0)
    # Sign: B better than A gives a negative difference.
    assert paired_bootstrap(gold, worse, gold, groups, LABELS, samples=50)["ci95"][1] < 0


def test_full_report_on_tiny_checkpoint(tiny_checkpoint, corpus_file, tmp_path):
    from factattr.eval.evaluate import run_evaluation

    report = run_evaluation(tiny_checkpoint, data=[str(corpus_file)], out=tmp_path / "report", progress=False)
    r = json.loads((tmp_path / "report" / "report.json").read_text())
    assert set(r["systems"]) == {"model", "majority", "rules", "tfidf_logreg"} and r["data"] == "synthetic"
    assert r["alignment"]["unaligned_gold"] == 0 and r["n_scored"] == r["n_gold_sentences"]
    model = r["systems"]["model"]["source"]
    assert model["macro_f1"] > 0.9 and model["macro_f1_ci95"][0] <= model["macro_f1"] <= model["macro_f1_ci95"][1]
    assert r["margins"]["majority"]["source"] > 0.5
    for picture in r["pictures"].values():
        assert (tmp_path / "report" / picture).read_bytes()[:4] == b"\x89PNG"
    md = (tmp_path / "report" / "report.md").read_text()
    assert "## Systems side by side" in md and "confusion_source.png" in md
    assert "tfidf_logreg" in report.summary()
    assert len(r["errors"]) <= 50 and all("previous" in e for e in r["errors"])


def test_gold_segmentation_scores_exactly_the_gold_sentences(tiny_checkpoint, corpus_file, tmp_path):
    from factattr.eval.evaluate import run_evaluation

    report = run_evaluation(tiny_checkpoint, data=[str(corpus_file)], out=tmp_path / "r", baselines=False,
                            segmentation="gold", progress=False)
    assert report.results["segmentation"] == "gold"
    assert report.results["alignment"]["exact"] == report.results["n_gold_sentences"]
    assert set(report.results["systems"]) == {"model"}


def test_compared_checkpoint_is_scored_on_the_same_sentences(tiny_checkpoint, corpus_file, tmp_path):
    import shutil

    from factattr.errors import ConfigError
    from factattr.eval.evaluate import run_evaluation

    twin = tmp_path / "twin" / "best"
    shutil.copytree(tiny_checkpoint, twin)
    report = run_evaluation(tiny_checkpoint, data=[str(corpus_file)], out=tmp_path / "r", baselines=False,
                            compare=[twin], progress=False)
    r = report.results
    assert set(r["systems"]) == {"model", "twin/best"}
    for head in ("source", "claim_type"):
        assert r["systems"]["twin/best"][head]["macro_f1"] == r["systems"]["model"][head]["macro_f1"]
        c = r["comparisons"]["twin/best"][head]
        assert c["difference"] == 0 and c["ci95"] == [0.0, 0.0] and c["only_a_right"] == c["only_b_right"] == 0
    assert "## Paired comparison with other checkpoints" in (tmp_path / "r" / "report.md").read_text()
    assert "model minus twin/best: source +0.000 [+0.000, +0.000]" in report.summary()
    with pytest.raises(ConfigError, match="already called"):
        run_evaluation(tiny_checkpoint, data=[str(corpus_file)], out=tmp_path / "r2", baselines=False,
                       compare=[twin, twin], progress=False)

    report = run_evaluation(tiny_checkpoint, data=[str(corpus_file)], out=tmp_path / "r3", baselines=False,
                            compare=[twin], progress=False, ensemble=True)
    r = report.results
    assert set(r["systems"]) == {"model", "twin/best", "ensemble"} and set(r["comparisons"]) == {"twin/best", "ensemble"}
    assert r["systems"]["ensemble"]["source"]["macro_f1"] == r["systems"]["model"]["source"]["macro_f1"]
    with pytest.raises(ConfigError, match="needs other checkpoints"):
        run_evaluation(tiny_checkpoint, data=[str(corpus_file)], out=tmp_path / "r4", compare=[], ensemble=True)


def test_the_ensemble_is_the_mean_of_its_members_probabilities():
    import numpy as np

    from factattr.eval.evaluate import Predictions, add_ensemble

    labels = {"who": ["army", "other", "none"]}
    a = np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7]])
    b = np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])    # sure where a hesitates: the mean takes b's "other"
    p = Predictions("x", [], [], [], {}, {"model": {"who": (["army", "none"], a)}, "b": {"who": (["other", "none"], b)},
                                          "majority": {"who": (["none", "none"], np.eye(3)[[2, 2]])}})
    add_ensemble(p, ["model", "b"], labels)
    predicted, probs = p.systems["ensemble"]["who"]
    assert predicted == ["other", "none"] and np.allclose(probs, (a + b) / 2)
