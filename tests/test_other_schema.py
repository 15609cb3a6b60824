"""Another war, another label schema: three heads, trained, evaluated and scored with no code change."""

import datetime
import json
import random
import sys

import yaml

from factattr.config import load_config

from .conftest import REPO

SCHEMA = {
    "source": ["russian_mod", "ukrainian_general_staff", "anonymous_officer", "other", "none"],
    "claim": ["territorial_control", "casualties", "military_action", "background"],
    "certainty": ["confirmed", "claimed"],
}
# (sentence, source, claim, certainty), written for this test.
TEMPLATES = [
    ("The Russian defence ministry said its troops took {place}.", "russian_mod", "territorial_control", "claimed"),
    ("Ukraine's General Staff said {n} soldiers were killed near {place}.", "ukrainian_general_staff", "casualties",
     "claimed"),
    ("An officer who asked not to be named said drones struck {place}.", "anonymous_officer", "military_action",
     "claimed"),
    ("Satellite images confirmed that the bridge at {place} was destroyed.", "other", "military_action", "confirmed"),
    ("{place} is a river port in the south.", "none", "background", "confirmed"),
]
PLACES = ["Kherson", "Bakhmut", "Avdiivka", "Izium", "Kupiansk", "Vuhledar", "Lyman", "Robotyne"]


def make_article(index: int, rng: random.Random) -> dict:
    text, sentences = "", []
    for i in rng.sample(range(len(TEMPLATES)), k=len(TEMPLATES)):
        template, *labels = TEMPLATES[i]
        sentence = template.format(place=rng.choice(PLACES), n=rng.randint(10, 900))
        text += " " if text else ""
        sentences.append({"start": len(text), "end": len(text) + len(sentence), **dict(zip(SCHEMA, labels))})
        text += sentence
    date = (datetime.date(2023, 1, 1) + datetime.timedelta(days=7 * index)).isoformat()
    return {"id": f"ua-{index:03d}", "date": date, "text": text, "sentences": sentences}


def write_config(tmp_path):
    rng = random.Random(0)
    corpus = tmp_path / "ua.jsonl"
    corpus.write_text("".join(json.dumps(make_article(i, rng)) + "\n" for i in range(24)), encoding="utf-8")
    config = {
        "labels": {head: [{"name": n, "description": f"{head} {n}"} for n in names] for head, names in SCHEMA.items()},
        "encoder": {"max_length": 64, "random_init": {"hidden_size": 32, "num_hidden_layers": 2,
                                                      "num_attention_heads": 2, "intermediate_size": 64}},
        "data": {"corpus": str(corpus)},
        "training": {"epochs": 8, "patience": 8, "lr": 3e-3, "windows_per_step": 4, "log_every": 1,
                     "head_weights": {"certainty": 0.5}},
        "evaluation": {"bootstrap_samples": 20, "rules": {
            "source": {"kind": "attribution", "narration": "none", "unknown_speaker": "other",
                       "names": {"russian_mod": ["russian defence ministry"], "ukrainian_general_staff": ["general staff"]}},
            "certainty": {"kind": "keywords", "fallback": "claimed", "patterns": {"confirmed": "confirmed|images"}}}},
        "output_dir": str(tmp_path / "run"),
    }
    path = tmp_path / "ua.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path, corpus


def test_three_head_schema_trains_evaluates_and_scores(tmp_path):
    from factattr import Tagger
    from factattr.cli import main
    from factattr.eval.evaluate import run_evaluation
    from factattr.training.train import train

    path, corpus = write_config(tmp_path)
    config = load_config(path)
    assert config.heads == ("source", "claim", "certainty")
    best = train(config, progress=False)
    metrics = json.loads((best / "metrics.json").read_text())
    assert {f"dev_{h}_macro_f1" for h in SCHEMA} <= set(metrics) and metrics["dev_score"] > 0.8
    assert set(metrics) >= {f"{h}_temperature" for h in SCHEMA}

    report = run_evaluation(best, data=[str(corpus)], out=tmp_path / "report", progress=False)
    r = report.results
    assert r["heads"] == list(SCHEMA) and set(r["systems"]) == {"model", "majority", "rules", "tfidf_logreg"}
    assert all(r["systems"]["model"][h]["macro_f1"] > 0.8 for h in SCHEMA)
    assert (tmp_path / "report" / "confusion_certainty.png").is_file()
    assert "## Model, certainty" in (tmp_path / "report" / "report.md").read_text()
    assert "certainty F1" in report.summary()

    tagger = Tagger.load(best)
    text = "The Russian defence ministry said its troops took Lyman. Lyman is a river port in the south."
    result = tagger.score(text)
    assert [(s.source, s.claim, s.certainty) for s in result.sentences] == [
        ("russian_mod", "territorial_control", "claimed"), ("none", "background", "confirmed")]
    first = result.to_dict()["sentences"][0]
    assert list(first) == ["text", "start", "end", *SCHEMA, *(f"{h}_probs" for h in SCHEMA), "speaker", "cue"]
    assert abs(sum(first["certainty_probs"].values()) - 1) < 1e-5 and result.sentences[0].certainty_score > 0.5
    assert main(["stats", str(corpus), "--config", str(path)]) == 0


def test_head_names_that_clash_with_sentence_fields_are_refused(tmp_path):
    import pytest

    from factattr.errors import ConfigError

    path, _ = write_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["labels"]["start"] = raw["labels"].pop("certainty")
    raw["training"]["head_weights"] = {}
    raw["evaluation"]["rules"].pop("certainty")
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ConfigError, match="head name 'start'"):
        load_config(path)
    raw["labels"]["certainty"] = raw["labels"].pop("start")
    raw["training"]["head_weights"] = {"stance": 1.0}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ConfigError, match=r"training.head_weights: unknown head\(s\) \['stance'\]"):
        load_config(path)
