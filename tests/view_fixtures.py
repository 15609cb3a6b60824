"""Hand-made scored articles (text written for these tests) with speakers and cues, and a contested-claims
file in the ledger's format, for the view's tests."""

from __future__ import annotations

import json
from pathlib import Path

SOURCES = ["syrian_army", "iraqi_command", "us_coalition", "anonymous_officer", "other", "none"]
CLAIMS = ["territorial_control", "casualties", "force_strength", "military_action", "assessment", "background"]

# (sentence, source, claim_type, source probability, speaker words, cue words): speaker and cue are found
# in the sentence's own text, or (speaker only) in the sentence before, as attribution often is.
ARTICLES = [
    ("view-001", "Army says it holds the river crossing", "2017-03-02", [
        ("The army said on Tuesday that its units now hold the river crossing at Ain Qadr.", "syrian_army",
         "territorial_control", 0.93, "The army", "said"),
        ("Three bridges were repaired overnight, a field commander added.", "syrian_army", "military_action", 0.55,
         "a field commander", "added"),
        ("Ain Qadr is a farming town of about 9,000 people.", "none", "background", 0.97, None, None),
    ]),
    ("view-002", "Monitor counts the dead after the strikes", "2017-03-09", [
        ("A monitoring group reported that 41 people were killed in the strikes.", "other", "casualties", 0.88,
         "A monitoring group", "reported"),
        ("It expects the toll to rise as rescuers search the rubble.", "other", "assessment", 0.49, "It", None),
        ("Coalition spokesman Colonel Dale Harrow said about 300 fighters remained in the old quarter.",
         "us_coalition", "force_strength", 0.9, "Colonel Dale Harrow", "said"),
    ]),
    ("view-003", "Officers describe a night raid", None, [
        ("An officer who asked not to be named said troops raided two depots before dawn.", "anonymous_officer",
         "military_action", 0.81, "An officer who asked not to be named", "said"),
        ("Iraqi commanders announced that the western districts were cleared.", "iraqi_command",
         "territorial_control", 0.86, "Iraqi commanders", "announced"),
    ]),
]


def _probs(labels: list[str], chosen: str, p: float) -> dict[str, float]:
    rest = (1 - p) / (len(labels) - 1)
    return {label: round(p if label == chosen else rest, 6) for label in labels}


def _span(text: str, words: str, start: int, end: int) -> dict:
    at = text.find(words, start, end)
    assert at >= 0, words
    return {"text": words, "start": at, "end": at + len(words)}


def scored_articles() -> list[dict]:
    """The articles as ``factattr score --format jsonl`` writes them, with the speaker and cue fields."""
    out = []
    for article_id, title, date, rows in ARTICLES:
        text, sentences = title + "\n\n", []
        for i, (sentence, source, claim, p, speaker, cue) in enumerate(rows):
            start = len(text)
            text += sentence + (" " if i + 1 < len(rows) else "")
            end = start + len(sentence)
            entry = {"text": sentence, "start": start, "end": end, "source": source, "claim_type": claim,
                     "source_probs": _probs(SOURCES, source, p), "claim_type_probs": _probs(CLAIMS, claim, 0.8),
                     "speaker": None, "cue": None}
            if speaker:  # "It" is a pronoun: it refers to the speaker named in the sentence before
                refers = _span(text, "A monitoring group", 0, start) if speaker == "It" else None
                entry["speaker"] = {**_span(text, speaker, start, end), "refers_to": refers}
            if cue:
                entry["cue"] = _span(text, cue, start, end)
            sentences.append(entry)
        record = {"id": article_id, "title": title, "text": text, "sentences": sentences}
        if date:
            record["date"] = date
        out.append(record)
    return out


def write_scored(path: Path) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in scored_articles()), encoding="utf-8")
    return path


def contested_groups() -> list[dict]:
    """One group in the ledger's format: two claims on the same fighters disagree."""
    a, b = scored_articles()[1], scored_articles()[0]
    claim_a = a["sentences"][2]
    figure_at = a["text"].index("about 300")
    return [{"group": 7, "claim_type": "force_strength", "place": "Ain Qadr", "lat": 35.1, "lon": 40.2,
             "date_from": "2017-03-02", "date_to": "2017-03-09", "spread": 0.62,
             "reason": "fighter counts differ by more than half",
             "claims": [
                 {"article_id": a["id"], "outlet": "Hand Wire", "source": "us_coalition", "speaker": "Colonel Dale Harrow",
                  "start": claim_a["start"], "end": claim_a["end"], "text": claim_a["text"], "date": "2017-03-09",
                  "figures": [{"text": "about 300", "start": figure_at, "end": figure_at + 9, "value_min": 250,
                               "value_max": 350, "counts": "fighters"}]},
                 {"article_id": "not-in-view", "outlet": "Other Desk", "source": "syrian_army", "speaker": None,
                  "start": 0, "end": 38, "text": "Army sources put the defenders at 800.", "date": "2017-03-02",
                  "figures": [{"text": "800", "start": 34, "end": 37, "value_min": 800, "value_max": 800,
                               "counts": "fighters"}]}]}]


def write_contested(path: Path) -> Path:
    path.write_text("".join(json.dumps(g) + "\n" for g in contested_groups()), encoding="utf-8")
    return path
