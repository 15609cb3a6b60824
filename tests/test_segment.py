import json

import pytest

from factattr.data.segment import segment

from .conftest import SEED_ARTICLE


def sentences(text):
    return [text[s:e] for s, e in segment(text)]


@pytest.mark.parametrize("text, expected", [
    ("U.S. and U.N. officials met Lt. Col. John Smith on Nov. 3 in Mosul. He said the town fell.",
     ["U.S. and U.N. officials met Lt. Col. John Smith on Nov. 3 in Mosul.", "He said the town fell."]),
    ("Gen. Ali Mayhoub said: \u201cThe city is free.\u201d The army then advanced.",
     ["Gen. Ali Mayhoub said: \u201cThe city is free.\u201d", "The army then advanced."]),
    ("\"We will win,\" said Col. Ryan Dillon. \"ISIL is finished.\" More follows.",
     ["\"We will win,\" said Col. Ryan Dillon.", "\"ISIL is finished.\"", "More follows."]),
    ("BAGHDAD (Reuters) - Iraqi forces entered the town. They met no resistance.",
     ["BAGHDAD (Reuters) - Iraqi forces entered the town.", "They met no resistance."]),
    ("Iraqi army retakes Hawija\nBAGHDAD - Iraqi forces retook the town, the army said.",
     ["Iraqi army retakes Hawija", "BAGHDAD - Iraqi forces retook the town, the army said."]),
    ("Army retakes Hawija\n\nArmy retakes Hawija\n\nForces retook the town.",
     ["Army retakes Hawija", "Army retakes Hawija", "Forces retook the town."]),
    ("The coalition said it\nconducted 14 strikes near Raqqa. It gave no details.",
     ["The coalition said it\nconducted 14 strikes near Raqqa.", "It gave no details."]),
    ("Fighters of the U.S.-backed SDF said 1,500 were left. Gen. Mattis agreed.",
     ["Fighters of the U.S.-backed SDF said 1,500 were left.", "Gen. Mattis agreed."]),
])
def test_news_edge_cases(text, expected):
    assert sentences(text) == expected


def test_scraped_text_without_commas_keeps_offsets():
    text = "Date of publication 3 October 2017 IS claims attack killing 17 people. State TV said Syrias army hit back"
    spans = segment(text)
    assert [text[s:e] for s, e in spans] == ["Date of publication 3 October 2017 IS claims attack killing 17 people.",
                                            "State TV said Syrias army hit back"]


@pytest.mark.parametrize("text", [
    "  \u201cCurly quotes\u201d and caf\u00e9 \u2014 na\u00efve text.\n\n\u0627\u0644\u0631\u0642\u0629 fell.  ",
    "Line one\r\nLine two without stop\n\n\n   Third. Fourth!",
    "Emoji \U0001F4A5 blast in Idlib. Tab\tseparated words.",
])
def test_offsets_exact_and_cover_all_text(text):
    spans = segment(text)
    assert spans == sorted(spans)
    covered = set()
    for start, end in spans:
        piece = text[start:end]
        assert piece == piece.strip() and piece
        covered |= set(range(start, end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@pytest.mark.skipif(not SEED_ARTICLE.is_file(), reason="../shared/seeds not present")
def test_seed_article_boundaries_match_gold():
    article = json.loads(SEED_ARTICLE.read_text(encoding="utf-8").splitlines()[0])
    gold = [(s["start"], s["end"]) for s in article["sentences"]]
    assert len(gold) == 27
    assert segment(article["text"]) == gold
