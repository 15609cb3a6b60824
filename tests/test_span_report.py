"""The evaluation's span report: speaker-linking accuracy, the worst span errors, the rules' speaker and
cue guess beside the model's, and report.json / report.md with those sections (issue 14)."""

from __future__ import annotations

import json
import random

import pytest

from factattr.config import load_config
from factattr.data.spans import attach_spans
from factattr.data.standoff import text_hash
from factattr.data.types import Article
from factattr.eval.baselines import rule_spans
from factattr.eval.metrics import b_cubed, linking_accuracy
from factattr.eval.span_report import SpanCase, entity_mentions, span_errors, span_results

from .conftest import REPO, make_article, tiny_overrides

NAMING = {"start": 0, "end": 16}


def test_linking_counts_naming_span_right_speaker_and_missing_links():
    pronoun, role = {"kind": "pronoun", "refers_to": NAMING}, {"kind": "role", "refers_to": NAMING}
    later_mention = {"start": 50, "end": 56}                          # "Dillon", the same speaker again
    cases = [
        (pronoun, {"refers_to": {"start": 5, "end": 16}}, [later_mention]),    # overlaps the naming span
        (role, {"refers_to": {"start": 50, "end": 56}}, [later_mention]),      # another mention of the speaker
        (pronoun, {"refers_to": {"start": 100, "end": 110}}, [later_mention]),  # someone else
        (pronoun, None, []),                                                    # no predicted speaker
        (pronoun, {"refers_to": None}, []),                                     # a speaker with no link
        ({"kind": "name", "refers_to": None}, {"refers_to": None}, []),         # a name refers to nothing
        ({"kind": "role", "refers_to": None}, None, []),                        # named only later: not counted
        (None, {"refers_to": NAMING}, []),                                      # no gold speaker
    ]
    linking = linking_accuracy(cases)
    assert linking["pronoun"] == {"n": 4, "no_link": 2, "naming_span": {"right": 1, "share": 0.25},
                                  "right_speaker": {"right": 1, "share": 0.25}}
    assert linking["role"] == {"n": 1, "no_link": 0, "naming_span": {"right": 0, "share": 0.0},
                               "right_speaker": {"right": 1, "share": 1.0}}
    assert linking["all"]["n"] == 5 and linking["all"]["naming_span"]["right"] == 1
    assert linking["all"]["right_speaker"]["share"] == pytest.approx(0.4)
    assert linking_accuracy([])["all"] == {"n": 0, "no_link": 0, "naming_span": {"right": 0, "share": None},
                                           "right_speaker": {"right": 0, "share": None}}


TEXT = "Col. Ryan Dillon said 40 strikes hit Raqqa. He added more would come. The spokesman said so."


def test_gold_speakers_carry_their_entity_and_the_naming_span_they_refer_to(tmp_path):
    sentences = [{"start": 0, "end": 43, "source": "us_coalition", "claim_type": "military_action"},
                 {"start": 44, "end": 69, "source": "us_coalition", "claim_type": "assessment"},
                 {"start": 70, "end": 92, "source": "us_coalition", "claim_type": "assessment"}]
    article = Article.from_dict({"id": "a1", "text": TEXT, "sentences": sentences})
    record = {"id": "a1", "sha256": text_hash(TEXT), "entities": [{"entity": "E1", "start": 0, "end": 16}],
              "sentences": [{"i": 0, "speaker": {"start": 0, "end": 16, "kind": "name"},
                             "cue": {"start": 17, "end": 21}, "entity": "E1"},
                            {"i": 1, "speaker": {"start": 44, "end": 46, "kind": "pronoun"},
                             "cue": {"start": 47, "end": 52}, "entity": "E1"},
                            {"i": 2, "speaker": {"start": 70, "end": 83, "kind": "role"},
                             "cue": {"start": 84, "end": 88}, "entity": "E1"}]}
    path = tmp_path / "spans.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (attached,), problems = attach_spans([article], [str(path)])
    assert problems == []
    speakers = [s.extra["speaker"] for s in attached.sentences]
    assert speakers[0] == {"start": 0, "end": 16, "kind": "name", "entity": "E1", "refers_to": None}
    assert speakers[1]["refers_to"] == speakers[2]["refers_to"] == {"start": 0, "end": 16}
    assert TEXT[speakers[2]["start"]:speakers[2]["end"]] == "The spokesman"
    assert entity_mentions(attached) == {"E1": [{"start": 0, "end": 16}, {"start": 44, "end": 46},
                                                {"start": 70, "end": 83}]}


def _texts(guess: dict) -> tuple:
    return tuple(None if guess[f] is None else guess[f]["text"] for f in ("speaker", "cue"))


@pytest.mark.parametrize("sentence, speaker, cue", [
    ("Col. Ryan Dillon said on Tuesday that 40 strikes hit Raqqa.", "Col. Ryan Dillon", "said"),
    ("According to the monitor, 12 civilians were killed in the raid.", "the monitor", "According to"),
    ("Twelve fighters died near the bridge, a source told AFP.", "a source", "told AFP"),
    ('"We will not stop," said the spokesman, adding that more strikes would come.', "the spokesman", "said"),
    ("The ministry's statement said the town was retaken.", "The ministry", "statement said"),
    ("SANA quoted a military source as saying the hill was taken.", "a military source", "quoted"),
    ("The Syrian Observatory for Human Rights has said 20 people died.", "The Syrian Observatory for Human Rights",
     "has said"),
    ("Heavy shelling was reported by SANA in the east.", "SANA", "was reported"),
    ("Heavy shelling was reported in the east.", None, None),          # a passive with no agent: no speaker
    ("The army retook the town on Friday.", None, None),               # no cue: not attributed
])
def test_rules_mark_the_cue_and_the_noun_phrase_beside_it(sentence, speaker, cue):
    assert _texts(rule_spans(sentence)) == (speaker, cue)


def test_rule_spans_are_in_article_offsets_at_word_edges():
    article = "The town fell. Col. Ryan Dillon told reporters on Tuesday that it fell."
    start = article.index("Col.")
    guess = rule_spans(article[start:], start)
    for field, expected in (("speaker", "Col. Ryan Dillon"), ("cue", "told reporters")):
        mark = guess[field]
        assert article[mark["start"]:mark["end"]] == mark["text"] == expected


def _case(index: int, origin: str, gold: dict, model: dict, rules: dict | None = None) -> SpanCase:
    sentence = [(0, 43), (44, 69), (70, 92)][index % 3]
    return SpanCase("a1", index, origin, (0, 69) if index == 1 else sentence, gold, model, (), TEXT, rules,
                    gold_sentence=sentence)


def _mark(start: int, end: int, score: float | None = None) -> dict:
    return {"text": TEXT[start:end], "start": start, "end": end, **({"score": score} if score is not None else {})}


def test_span_errors_list_missed_spurious_and_wrong_marks_most_confident_first():
    name, cue = {"start": 0, "end": 16, "kind": "name"}, {"start": 17, "end": 21}
    cases = [
        _case(0, "real", {"speaker": name, "cue": cue}, {"speaker": _mark(5, 16, 0.99), "cue": _mark(17, 21)}),  # right
        _case(1, "real", {"speaker": name, "cue": cue}, {"speaker": _mark(22, 32, 0.6), "cue": _mark(17, 21)}),
        _case(2, "written", {"speaker": None, "cue": None}, {"speaker": _mark(44, 46, 0.8), "cue": _mark(47, 52)}),
        _case(3, "written", {"speaker": name, "cue": cue}, {"speaker": None, "cue": None}),
    ]
    errors = span_errors(cases, limit=10)
    assert [e["index"] for e in errors] == [2, 1, 3]
    assert errors[0]["speaker"] == {"gold": None, "predicted": "He", "error": "spurious"}
    assert errors[1]["speaker"] == {"gold": "Col. Ryan Dillon", "predicted": "40 strikes", "error": "wrong"}
    assert errors[1]["cue"]["error"] is None and errors[1]["origin"] == "real"
    assert errors[1]["text"] == "He added more would come." and not errors[1]["same_sentence"]  # fused by the model
    assert errors[0]["text"] == "The spokesman said so." and errors[0]["same_sentence"]
    assert errors[2]["speaker"]["error"] == errors[2]["cue"]["error"] == "missed" and errors[2]["score"] is None
    assert len(span_errors(cases, limit=1)) == 1


def test_span_results_put_the_rules_beside_the_model_per_origin():
    name = {"start": 0, "end": 16, "kind": "name"}
    rules = {"speaker": _mark(0, 16), "cue": None}
    cases = [_case(0, "real", {"speaker": name, "cue": None}, {"speaker": None, "cue": None}, rules),
             _case(1, "written", {"speaker": name, "cue": None}, {"speaker": _mark(0, 16, 0.9), "cue": None}, rules)]
    results = span_results(cases, "test", limit=5)
    assert set(results) == {"spans", "spans_by_origin", "linking", "linking_by_origin", "spans_baseline",
                            "spans_baseline_by_origin", "span_errors"}
    assert results["spans"]["speaker"]["exact"]["recall"] == 0.5
    assert results["spans_baseline"]["rules"]["speaker"]["exact"]["f1"] == 1.0
    assert results["spans_by_origin"]["test-real"]["speaker"]["predicted"] == 0
    assert results["spans_baseline_by_origin"]["test-written"]["rules"]["speaker"]["gold"] == 1
    assert [e["index"] for e in results["span_errors"]] == [0]
    without_rules = span_results([_case(0, "", {"speaker": name, "cue": None}, {"speaker": None, "cue": None})], "x", 5)
    assert "spans_baseline" not in without_rules and "spans_by_origin" not in without_rules


# An evaluation end to end: a tiny span model on synthetic articles where a pronoun continues the army's claim.
CONTINUATION = "It said the strikes would go on."
OPENERS = {"The Syrian army said": ("The Syrian army", "said"), "Iraqi commanders announced": ("Iraqi commanders", "announced"),
           "The coalition said": ("The coalition", "said"), "A military source told SANA": ("A military source", "told SANA"),
           "The Observatory warned": ("The Observatory", "warned")}


def _with_continuation(article: dict) -> dict:
    army = next(s for s in article["sentences"] if s["source"] == "syrian_army")
    text = article["text"][:army["end"]] + " " + CONTINUATION + article["text"][army["end"]:]
    shift = len(CONTINUATION) + 1
    sentences = []
    for s in article["sentences"]:
        moved = s if s["end"] <= army["end"] else {**s, "start": s["start"] + shift, "end": s["end"] + shift}
        sentences.append(moved)
        if s is army:
            sentences.append({"start": army["end"] + 1, "end": army["end"] + shift, "source": "syrian_army",
                              "claim_type": "assessment"})
    return {**article, "text": text, "sentences": sentences}


def _span_record(article: dict) -> dict:
    text, records, entities = article["text"], [], {}
    for i, s in enumerate(article["sentences"]):
        if s["source"] == "none":
            continue
        sentence = text[s["start"]:s["end"]]
        if sentence == CONTINUATION:
            speaker, cue, kind, entity = "It", "said", "pronoun", "syrian_army"
        else:
            speaker, cue = OPENERS[next(k for k in OPENERS if sentence.startswith(k))]
            kind, entity = "name", s["source"]
            entities[entity] = {"entity": entity, "start": s["start"], "end": s["start"] + len(speaker)}
        cue_at = s["start"] + sentence.index(cue, len(speaker))
        records.append({"i": i, "speaker": {"start": s["start"], "end": s["start"] + len(speaker), "kind": kind},
                        "cue": {"start": cue_at, "end": cue_at + len(cue)}, "entity": entity})
    return {"id": article["id"], "sha256": text_hash(text), "entities": list(entities.values()), "sentences": records}


@pytest.fixture(scope="module")
def span_report(tmp_path_factory):
    from factattr.eval.evaluate import run_evaluation
    from factattr.training.train import train

    root = tmp_path_factory.mktemp("span-report")
    rng = random.Random(1)
    articles = [_with_continuation(make_article(i, rng)) for i in range(24)]
    (root / "corpus.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    (root / "spans.jsonl").write_text("".join(json.dumps(_span_record(a)) + "\n" for a in articles), encoding="utf-8")
    sources = json.dumps([{"name": "written", "corpus": str(root / "corpus.jsonl"), "spans": str(root / "spans.jsonl")}])
    overrides = [o for o in tiny_overrides(root / "corpus.jsonl", root / "run", **{
        "training.epochs": 6, "training.patience": 6, "training.lr": 3e-3, "model.spans": "true"})
        if not o.startswith("data.corpus=")] + [f"data.sources={sources}", "evaluation.worst_errors=3"]
    config = load_config(REPO / "configs" / "tiny.yaml", overrides)
    checkpoint = train(config, progress=False)
    return run_evaluation(checkpoint, config=config, out=root / "report", progress=False)


def test_report_json_holds_linking_span_errors_and_the_rules_spans(span_report):
    results = json.loads((span_report.out_dir / "report.json").read_text(encoding="utf-8"))
    n_articles = results["n_articles"]
    pronouns = results["linking"]["pronoun"]
    assert pronouns["n"] == n_articles                      # one linked "It" per test article, all aligned
    assert results["linking"]["role"]["n"] == 0 and results["linking"]["all"]["n"] == n_articles
    assert 0 <= pronouns["naming_span"]["right"] <= pronouns["right_speaker"]["right"] <= pronouns["n"] - pronouns["no_link"]
    rules = results["spans_baseline"]["rules"]
    assert set(rules) == {"speaker", "cue"} and rules["speaker"]["gold"] == results["spans"]["speaker"]["gold"]
    assert rules["speaker"]["exact"]["recall"] == 1.0   # every templated speaker is the phrase before its cue
    assert len(results["span_errors"]) <= 3
    for error in results["span_errors"]:
        assert {"article", "index", "origin", "score", "speaker", "cue", "text", "same_sentence"} <= set(error)
        assert any(error[f]["error"] in ("missed", "spurious", "wrong") for f in ("speaker", "cue"))


def test_report_md_and_summary_show_the_new_sections(span_report):
    markdown = (span_report.out_dir / "report.md").read_text(encoding="utf-8")
    assert "## Speaker and cue spans" in markdown and "| all | rules | speaker |" in markdown
    assert "| all | model | cue |" in markdown
    assert "### Who pronouns and roles refer to" in markdown and "| all | pronoun |" in markdown
    assert "most confident span errors" in markdown
    summary = span_report.summary()
    assert "rules exact F1" in summary and "pronoun and role speakers linked" in summary


def test_evaluate_reads_the_span_files_of_its_data(span_report, tmp_path, capsys):
    """`evaluate --data ... --spans ...`: third-party articles with stand-off spans kept for evaluation only
    get the span, linking and span-error sections; a bad span file is an error naming file and article."""
    from factattr.cli import main

    root = span_report.out_dir.parent
    checkpoint = span_report.results["checkpoint"]
    base = ["evaluate", "--checkpoint", checkpoint, "--data", str(root / "corpus.jsonl"), "--no-baselines",
            "--no-progress"]
    assert main(base + ["--spans", str(root / "spans.jsonl"), "--out", str(tmp_path / "with")]) == 0
    results = json.loads((tmp_path / "with" / "report.json").read_text(encoding="utf-8"))
    assert results["n_articles"] == 24 and results["linking"]["pronoun"]["n"] == 24    # every article's "It"
    assert results["spans"]["speaker"]["gold"] > 24 and results["span_errors"] is not None

    assert main(base + ["--out", str(tmp_path / "without")]) == 0     # no spans: no span sections
    assert "linking" not in json.loads((tmp_path / "without" / "report.json").read_text(encoding="utf-8"))

    records = [json.loads(line) for line in (root / "spans.jsonl").read_text(encoding="utf-8").splitlines()]
    records[3]["sha256"] = "0" * 64
    (tmp_path / "bad.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    capsys.readouterr()
    assert main(base + ["--spans", str(tmp_path / "bad.jsonl"), "--out", str(tmp_path / "bad")]) != 0
    error = capsys.readouterr().err
    assert "bad.jsonl" in error and records[3]["id"] in error and "sha256" in error
    assert not (tmp_path / "bad").exists()


def test_evaluate_joins_stand_off_data_with_its_texts(span_report, tmp_path, capsys):
    """`evaluate --data ANNOTATIONS --texts TEXTS --spans SPANS`: labels kept apart from third-party texts
    (a held-out real set) are joined as the config's stand-off sources are; a missing text is an error."""
    from factattr.cli import main

    root = span_report.out_dir.parent
    articles = [json.loads(line) for line in (root / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    (tmp_path / "texts.jsonl").write_text("".join(json.dumps({"id": a["id"], "text": a["text"]}) + "\n"
                                                  for a in articles[1:]), encoding="utf-8")
    (tmp_path / "labels.jsonl").write_text("".join(json.dumps({"id": a["id"], "sha256": text_hash(a["text"]),
                                                               "sentences": a["sentences"]}) + "\n"
                                                   for a in articles[1:]), encoding="utf-8")
    base = ["evaluate", "--checkpoint", span_report.results["checkpoint"], "--no-baselines", "--no-progress",
            "--texts", str(tmp_path / "texts.jsonl"), "--spans", str(root / "spans.jsonl")]
    assert main(base + ["--data", str(tmp_path / "labels.jsonl"), "--out", str(tmp_path / "joined")]) == 0
    results = json.loads((tmp_path / "joined" / "report.json").read_text(encoding="utf-8"))
    assert results["n_articles"] == 23 and results["linking"]["pronoun"]["n"] == 23

    with (tmp_path / "labels.jsonl").open("a", encoding="utf-8") as f:        # its text is not in the texts file
        f.write(json.dumps({"id": articles[0]["id"], "sha256": text_hash(articles[0]["text"]),
                            "sentences": articles[0]["sentences"]}) + "\n")
    capsys.readouterr()
    assert main(base + ["--data", str(tmp_path / "labels.jsonl"), "--out", str(tmp_path / "bad")]) != 0
    error = capsys.readouterr().err
    assert "labels.jsonl:24" in error and articles[0]["id"] in error and not (tmp_path / "bad").exists()
    assert main(["evaluate", "--checkpoint", span_report.results["checkpoint"], "--texts",
                 str(tmp_path / "texts.jsonl")]) != 0                  # --texts without --data
    assert "--texts go with --data" in capsys.readouterr().err


def test_b_cubed_charges_a_merge_to_precision_and_a_split_to_recall():
    gold = ["A", "A", "B"]
    assert b_cubed([(gold, [1, 1, 2])])["f1"] == 1.0
    merged = b_cubed([(gold, [1, 1, 1])])                 # B joined A: each mention's entity is 2/3 right
    assert merged["recall"] == 1.0 and merged["precision"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)
    split = b_cubed([(gold, [1, 2, 3])])                  # A cut in two
    assert split["precision"] == 1.0 and split["recall"] == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)
    # articles never share an entity, even under one id
    assert b_cubed([(["A"], [1]), (["A"], [1])]) == {"mentions": 2, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    with pytest.raises(ValueError, match="article 0 has 2 gold and 1 predicted"):
        b_cubed([(["A", "B"], [1])])
