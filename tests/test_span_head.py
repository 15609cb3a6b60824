"""The speaker-and-cue token head: tags from spans and back, training on span annotations, results with
speaker, cue and the span a pronoun refers to."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from factattr.config import load_config
from factattr.data.corpus import load_data
from factattr.data.standoff import text_hash
from factattr.model.spans import TAGS, decode, sentence_tags
from factattr.model.tagger import Tagger
from factattr.training.train import train

from .conftest import REPO, make_article, tiny_overrides

OFFSETS = [(0, 3), (4, 10), (11, 15), (16, 20), (21, 23), (24, 30)]   # "The Syrian army said it retook"


def test_tags_mark_the_tokens_a_span_overlaps():
    tags = sentence_tags(OFFSETS, {"speaker": (0, 15), "cue": (16, 20)})
    assert [TAGS[t] for t in tags] == ["B-speaker", "I-speaker", "I-speaker", "B-cue", "O", "O"]
    assert sentence_tags(OFFSETS, {"speaker": None, "cue": None}) == [0] * 6


def test_decode_takes_the_likeliest_run_back_to_characters():
    probs = np.full((6, len(TAGS)), 0.02)
    for t, tag in enumerate([1, 2, 2, 3, 0, 0]):
        probs[t, tag] = 0.92
    probs[4, 1] = 0.5   # a weaker lone speaker guess: argmax is still O there
    found = decode(probs, OFFSETS)
    assert found["speaker"][:2] == (0, 15) and found["cue"][:2] == (16, 20)
    assert decode(np.eye(len(TAGS))[[0] * 6], OFFSETS) == {"speaker": None, "cue": None}


# Speaker and cue of each synthetic template (tests/conftest.py), and one that continues with "It".
MARKS = {"The Syrian army said": ("The Syrian army", "said"), "Iraqi commanders announced": ("Iraqi commanders", "announced"),
         "The coalition said": ("The coalition", "said"), "A military source told SANA": ("A military source", "told SANA"),
         "The Observatory warned": ("The Observatory", "warned")}


def span_records(articles: list[dict]) -> list[dict]:
    records = []
    for article in articles:
        text, sentences = article["text"], []
        for i, s in enumerate(article["sentences"]):
            if s["source"] == "none":
                continue
            sentence = text[s["start"]:s["end"]]
            opener = next(k for k in MARKS if sentence.startswith(k))
            speaker, cue = MARKS[opener]
            cue_at = s["start"] + sentence.index(cue, len(speaker))
            sentences.append({"i": i, "speaker": {"start": s["start"], "end": s["start"] + len(speaker), "kind": "name"},
                              "cue": {"start": cue_at, "end": cue_at + len(cue)}, "entity": f"E{i}"})
        entities = [{"entity": r["entity"], "start": r["speaker"]["start"], "end": r["speaker"]["end"]} for r in sentences]
        records.append({"id": article["id"], "sha256": text_hash(text), "entities": entities, "sentences": sentences})
    return records


@pytest.fixture(scope="module")
def span_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("spans")
    rng = random.Random(0)
    articles = [make_article(i, rng) for i in range(24)]
    (root / "corpus.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    (root / "spans.jsonl").write_text("".join(json.dumps(r) + "\n" for r in span_records(articles)), encoding="utf-8")
    sources = json.dumps([{"name": "written", "corpus": str(root / "corpus.jsonl"), "spans": str(root / "spans.jsonl")}])
    overrides = [o for o in tiny_overrides(root / "corpus.jsonl", root / "run", **{
        "training.epochs": 10, "training.patience": 10, "training.lr": 3e-3, "model.spans": "true"})
        if not o.startswith("data.corpus=")] + [f"data.sources={sources}"]
    config = load_config(REPO / "configs" / "tiny.yaml", overrides)
    return config, articles, train(config, progress=False)


def test_loaded_articles_carry_their_spans(span_run):
    config, articles, _ = span_run
    loaded = [a for split in load_data(config).splits.values() for a in split]
    sentence = next(s for a in loaded for s in a.sentences if s.labels["source"] == "syrian_army")
    assert sentence.text[: sentence.extra["speaker"]["end"] - sentence.start] == "The Syrian army"
    narration = next(s for a in loaded for s in a.sentences if s.labels["source"] == "none")
    assert narration.extra["speaker"] is None and narration.extra["cue"] is None


def test_results_carry_speaker_cue_and_what_a_pronoun_refers_to(span_run):
    _, articles, checkpoint = span_run
    tagger = Tagger.load(checkpoint, backend="torch")
    text = articles[0]["text"] + " It said the strikes would go on."
    result = tagger.score(text)
    found = 0
    for s in result.sentences:
        record = s.to_dict()
        assert set(record) >= {"speaker", "cue"}
        for field in ("speaker", "cue"):
            mark = record[field]
            if mark is not None:
                assert text[mark["start"]:mark["end"]] == mark["text"] and s.start <= mark["start"] < mark["end"] <= s.end
        if s.source != "none" and s.speaker is not None:
            found += 1
            opener = next((k for k in MARKS if s.text.startswith(k)), None)
            if opener is not None:
                assert s.speaker["text"] == MARKS[opener][0] and s.cue["text"] == MARKS[opener][1]
        if s.source == "none":
            assert s.speaker is None and s.cue is None
    assert found >= 4, [s.to_dict() for s in result.sentences]


def test_a_model_without_the_span_head_gives_none(tagger):
    result = tagger.score("The army said it retook the town. It added that 20 were killed.")
    assert all(s.speaker is None and s.cue is None for s in result.sentences)
    assert all(d["speaker"] is None for d in result.to_dict()["sentences"])


def test_evaluation_reports_span_scores(span_run, tmp_path):
    from factattr.eval.evaluate import run_evaluation

    config, _, checkpoint = span_run
    report = run_evaluation(checkpoint, config=config, out=tmp_path / "report", baselines=False, progress=False)
    spans = report.results["spans"]
    assert set(spans) == {"speaker", "cue"} and spans["speaker"]["gold"] > 0
    assert 0.0 <= spans["speaker"]["exact"]["f1"] <= spans["speaker"]["overlap"]["f1"] <= 1.0
    assert "speaker spans: exact F1" in report.summary()
    assert "## Speaker and cue spans" in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")


def _result(i: int, label: str, probs: list[float], speaker: dict | None):
    from factattr.model.tagger import SentenceResult

    names = ["army", "other", "none"]
    return SentenceResult(text="x", start=i, end=i + 1, labels={"who": label},
                          probs={"who": dict(zip(names, probs))}, speaker=speaker)


def test_pooling_decides_the_label_once_per_speaker():
    from factattr.model.tagger import pool_by_speaker

    described = _result(0, "army", [0.9, 0.08, 0.02], {"entity": 0})
    bare = _result(1, "other", [0.4, 0.55, 0.05], {"entity": 0})          # "X said", far from X's description
    someone_else = _result(2, "other", [0.1, 0.85, 0.05], {"entity": 1})
    narration = _result(3, "none", [0.05, 0.05, 0.9], None)
    pooled = pool_by_speaker([described, bare, someone_else, narration], "who", "none")
    assert [s.labels["who"] for s in pooled] == ["army", "army", "other", "none"]
    assert pooled[0].probs["who"] == pooled[1].probs["who"] and pooled[1].probs["who"]["none"] == 0.0
    assert pytest.approx(sum(pooled[1].probs["who"].values())) == 1.0
    assert pooled[2] is someone_else and pooled[3] is narration


def test_speakers_are_numbered_and_pronouns_linked():
    from factattr.model.tagger import with_speakers

    text = "Col. Ryan Dillon said 40 strikes hit Raqqa. He added more would come. Dillon said so."
    sentences = [_result(0, "army", [1, 0, 0], None) for _ in range(3)]
    sentences = [s.__class__(**{**s.__dict__, "start": a, "end": b}) for s, (a, b) in
                 zip(sentences, [(0, 43), (44, 69), (70, 85)])]
    spans = [{"speaker": (0, 16, 0.9), "cue": (17, 21, 0.9)}, {"speaker": (0, 2, 0.9), "cue": (3, 8, 0.9)},
             {"speaker": (0, 6, 0.9), "cue": (7, 11, 0.9)}]
    placed = with_speakers(text, sentences, spans, ("who", "none"))
    assert [p.speaker["text"] for p in placed] == ["Col. Ryan Dillon", "He", "Dillon"]
    assert placed[1].speaker["refers_to"]["text"] == "Col. Ryan Dillon" and placed[1].cue["text"] == "added"
    assert placed[0].speaker["entity"] == placed[1].speaker["entity"] == placed[2].speaker["entity"]


def test_loading_refuses_spans_that_break_the_conventions(span_run, tmp_path):
    from factattr.errors import CorpusError

    config, articles, _ = span_run
    path = tmp_path / "bad_spans.jsonl"
    records = span_records(articles)
    records[0]["sentences"] = records[0]["sentences"][1:]               # an attributed sentence left without spans
    records[1]["sentences"][0]["cue"]["start"] += 1                     # a cue cut inside a word
    records[2]["sha256"] = "0" * 64                                     # spans of another text
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    source = config.data.sources[0].model_copy(update={"spans": [str(path)]})
    broken = config.model_copy(update={"data": config.data.model_copy(update={"sources": [source]})})
    with pytest.raises(CorpusError) as error:
        load_data(broken)
    message = str(error.value)
    assert f"article '{articles[0]['id']}'" in message and "attributed but has no span record" in message
    assert articles[1]["id"] in message and "word edges" in message
    assert articles[2]["id"] in message and "sha256 differs" in message


def test_a_run_cut_inside_a_word_is_widened_to_whole_words():
    from factattr.model.tagger import with_speakers

    # The tagged tokens began at "ur" of "Nour" and ended at "Yass": a name cut there names nobody.
    text = "A spokesman for Nour El Din Yasser Youssef said the town fell."
    sentences = [_result(0, "army", [1, 0, 0], None)]
    sentences = [sentences[0].__class__(**{**sentences[0].__dict__, "start": 0, "end": len(text)})]
    start, end = text.index("ur El"), text.index("Yasser") + 4
    placed = with_speakers(text, sentences, [{"speaker": (start, end, 0.8), "cue": (43, 47, 0.9)}], ("who", "none"))
    assert placed[0].speaker["text"] == "Nour El Din Yasser"
    assert text[placed[0].speaker["start"]:placed[0].speaker["end"]] == "Nour El Din Yasser"
    assert placed[0].cue["text"] == "said"
