"""The claims ledger: figures, places, dates, contested groups, files, the command and the seed article.

Sentences here are written for these tests (no third-party text); the seed test reads the seed article
from ../shared when it is there.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from factattr.cli import main
from factattr.ledger import Ledger, PlaceResolver, contested_groups, event_date, extract_figures
from factattr.ledger.contested import _place_of, _usable
from factattr.ledger.events import attackers, compatible, dates_agree, holders, means, sides, victims

from .conftest import SHARED

SEED = SHARED / "seeds" / "000_945875a9a204537a.gold.jsonl"


@pytest.fixture(scope="module")
def resolver() -> PlaceResolver:
    return PlaceResolver()  # loads the gazetteer once for the module (a few seconds)


def figures(text: str) -> list[tuple]:
    return [(f.text, f.value_min, f.value_max, f.counts) for f in extract_figures(text)]


@pytest.mark.parametrize("text, expected", [
    ("The coalition said there were 1,500-2,500 fighters left in the town.",
     [("1,500-2,500", 1500, 2500, "fighters")]),
    ("At least 17 civilians were killed and eight others were wounded.",
     [("At least 17", 17, None, "killed"), ("eight", 8, 8, "wounded")]),
    ("Jets struck the village, killing dozens of militants.", [("dozens", 24, 99, "killed")]),
    ("Between 20 and 30 soldiers were captured on Monday.", [("Between 20 and 30", 20, 30, "captured")]),
    ("Up to 300000 people remain besieged.", [("Up to 300000", None, 300000, "people")]),
    ("The army seized a 31-vehicle convoy and destroyed two tanks.",
     [("31", 31, 31, "vehicles"), ("two", 2, 2, "vehicles")]),
    ("More than 10 million displaced since the war began.", [("More than 10 million", 1e7, None, "displaced")]),
    ("A bomb killed 10 people including four children and two women.",
     [("10", 10, 10, "killed"), ("four", 4, 4, "killed"), ("two", 2, 2, "killed")]),
    ("Half a dozen wounded children were treated.", [("Half a dozen", 6, 6, "wounded")]),
])
def test_figures_values_ranges_and_words(text, expected):
    assert figures(text) == [(t, a if a is None else float(a), b if b is None else float(b), c) for t, a, b, c in expected]


@pytest.mark.parametrize("text", [
    "The fighting began on March 15 2011 and has lasted five years.",
    "Resolution 2254 was adopted 14-0 by the council.",
    "A 12-year-old boy walked 20 km to the camp at 7 pm.",
    "One of the commanders said the offensive would take three weeks.",
    "04-06-2016 Rockets hit the city centre.",
])
def test_numbers_that_count_nothing_are_not_figures(text):
    assert figures(text) == []


def test_figure_offsets_point_into_the_article():
    article = "Headline. Rebels said 40 soldiers were killed."
    start = article.index("Rebels")
    (figure,) = extract_figures(article[start:], start)
    assert article[figure.start:figure.end] == "40" and figure.interval() == (40.0, 40.0)
    (open_ended,) = extract_figures("at least 5 people were killed")
    assert open_ended.interval() == (5.0, math.inf)


def test_places_aliases_resolve_to_one_place(resolver):
    spellings = ["Deir Ezzor", "Deir el-Zour", "Deir al-Zor", "Dayr az Zawr"]
    found = [resolver.find(f"Shells fell on {name} on Monday.") for name in spellings]
    assert {p[0].geonameid for p in found} == {170794}
    assert all(p[0].lat and p[0].country == "SY" for p in found)
    kamal = resolver.find("Fighters fled from Albu Kamal, Abu Kamal and Bukamal.")
    assert [p.geonameid for p in kamal] == [174448] * 3
    qaim = resolver.find("Troops entered al-Qaim while others stayed outside Qaim.")
    assert [(p.name, p.geonameid, p.country) for p in qaim] == [("al-Qaim", 92138, "IQ"), ("Qaim", 92138, "IQ")]


def test_unknown_village_is_kept_without_coordinates(resolver):
    places = resolver.find("Shelling hit the village of Zaqrawiyat near Aleppo.")
    assert [(p.name, p.geonameid, p.lat, p.kind) for p in places] == [
        ("Zaqrawiyat", None, None, "unknown"), ("Aleppo", 170063, pytest.approx(36.20124), "city")]


def test_adjectives_organisations_and_acronyms_are_not_places(resolver):
    places = resolver.find("The US-led coalition and the Britain-based monitor told SANA that Syrias army advanced.")
    assert [(p.name, p.geonameid) for p in places] == [("Syria", 163843)]


def test_event_dates_relative_to_the_article_date():
    sunday = dt.date(2017, 11, 5)
    assert event_date("The army announced on Nov. 3 that it retook the city.", sunday) == (dt.date(2017, 11, 3), "Nov. 3")
    assert event_date("Jets struck the town on Tuesday.", sunday) == (dt.date(2017, 10, 31), "Tuesday")
    assert event_date("Jets struck the town on Tuesday.", None) == (None, None)
    assert event_date("The town fell in the summer.", sunday) == (None, None)


def scored(article_id, outlet, date, sentences):
    """A scored article as ArticleResult.to_dict() gives it, built from (text, source, claim_type)."""
    text, out = "", []
    for sentence, source, claim_type in sentences:
        text += ("" if not text else " ")
        out.append({"text": sentence, "start": len(text), "end": len(text) + len(sentence), "source": source,
                    "claim_type": claim_type, "source_probs": {source: 1.0}, "claim_type_probs": {claim_type: 1.0}})
        text += sentence
    return {"id": article_id, "outlet": outlet, "date": date, "text": text, "sentences": out}


ARTICLES = [
    scored("a1", "agency", "2017-03-08", [
        ("State media said army units killed 40 terrorists in an ambush east of Deir Ezzor on Tuesday.",
         "syrian_army", "casualties"),
        ("The city lies on the Euphrates.", "none", "background")]),
    scored("a2", "monitor-news", "2017-03-08", [
        ("The monitor said 12 fighters were killed in the ambush east of Deir Ezzor on Tuesday.",
         "other", "casualties")]),
    scored("a3", "wire", "2017-03-08", [
        ("Activists said 300 people were displaced from Mosul on Tuesday.", "other", "casualties")]),
]


def test_ledger_from_results_and_dataframes(resolver):
    ledger = Ledger.from_results(ARTICLES, resolver=resolver)
    frame = ledger.to_pandas()
    assert len(frame) == 3  # the background sentence is not a claim
    first = frame.iloc[0]
    assert (first.article_id, first.outlet, first.date, first.source, first.speaker, first.event_date) == (
        "a1", "agency", "2017-03-08", "syrian_army", "syrian_army", "2017-03-07")
    assert first.figures[0]["value_min"] == 40 and first.places[0]["canonical"] == "Deir ez-Zor"
    text = ARTICLES[0]["text"]
    assert text[first.start:first.end] == first.text
    pl = pytest.importorskip("polars")
    assert isinstance(ledger.to_polars(), pl.DataFrame) and ledger.to_polars().height == 3


def test_speaker_span_is_used_when_present(resolver):
    article = scored("s1", None, "2017-03-08", [("Colonel Dillon said 2000 fighters remain.", "us_coalition",
                                                  "force_strength")])
    article["sentences"][0]["speaker"] = {"text": "Colonel Dillon", "start": 0, "end": 14, "refers_to": None}
    (claim,) = Ledger.from_results([article], resolver=resolver).claims
    assert claim.speaker == "Colonel Dillon" and claim.source == "us_coalition"


def test_contested_groups_same_place_day_and_type(resolver):
    groups = contested_groups(Ledger.from_results(ARTICLES, resolver=resolver).claims)
    assert len(groups) == 1
    (group,) = groups
    assert (group.place, group.claim_type, group.reason) == ("Deir ez-Zor", "casualties", "different figures for killed")
    assert group.spread == pytest.approx(40 / 12, abs=1e-3)
    record = group.to_dict(1)
    assert {c["article_id"] for c in record["claims"]} == {"a1", "a2"}
    assert record["date_from"] == record["date_to"] == "2017-03-07"
    assert set(record) >= {"group", "claim_type", "place", "lat", "lon", "date_from", "date_to", "spread", "reason",
                           "claims"}
    assert set(record["claims"][0]["figures"][0]) == {"text", "start", "end", "value_min", "value_max", "counts"}


def test_agreeing_figures_are_not_contested(resolver):
    same = [scored("b1", "x", "2017-03-08", [("The army killed 40 fighters east of Deir Ezzor.", "syrian_army",
                                                "casualties")]),
            scored("b2", "y", "2017-03-08", [("The monitor said 40 fighters were killed east of Deir Ezzor.",
                                                "other", "casualties")])]
    assert contested_groups(Ledger.from_results(same, resolver=resolver).claims) == []


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_file_formats_round_trip(tmp_path, resolver, suffix):
    ledger = Ledger.from_results(ARTICLES, resolver=resolver)
    path = ledger.write(tmp_path / f"ledger{suffix}")
    again = Ledger.read(path)
    assert again.rows() == ledger.rows()
    assert [p.name for p in tmp_path.iterdir()] == [f"ledger{suffix}"]  # no temporary file left behind


def test_unknown_format_is_refused(tmp_path):
    from factattr.errors import InputError

    with pytest.raises(InputError, match="unknown ledger format"):
        Ledger().write(tmp_path / "ledger.xlsx")


def test_cli_writes_ledger_contested_groups_and_errors_file(tmp_path, capsys):
    source = tmp_path / "scored.jsonl"
    lines = [json.dumps(ARTICLES[0]), "{not json", json.dumps({"id": "broken", "sentences": [{"text": "x"}]}),
             json.dumps(ARTICLES[1]), json.dumps(ARTICLES[2])]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, groups = tmp_path / "ledger.csv", tmp_path / "groups.jsonl"
    status = main(["ledger", str(source), "--out", str(out), "--contested", "--contested-out", str(groups),
                   "--no-progress"])
    assert status == 1  # some rows failed
    errors = [json.loads(line) for line in (tmp_path / "ledger.csv.errors.jsonl").read_text().splitlines()]
    assert [(e["line"], e["article_id"]) for e in errors] == [(2, None), (3, "broken")]
    assert "not valid JSON" in errors[0]["reason"] and "lacks 'start'" in errors[1]["reason"]
    assert len(Ledger.read(out).claims) == 3
    (group,) = [json.loads(line) for line in groups.read_text().splitlines()]
    assert group["group"] == 1 and group["place"] == "Deir ez-Zor"
    printed = capsys.readouterr().out
    assert "1 contested group(s)" in printed and "Deir ez-Zor" in printed


def test_cli_clean_input_exits_zero_and_needs_an_output(tmp_path, capsys):
    source = tmp_path / "scored.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    assert main(["ledger", str(source), "--out", str(tmp_path / "l.jsonl"), "--no-progress"]) == 0
    assert not (tmp_path / "l.jsonl.errors.jsonl").exists()
    assert main(["ledger", str(source)]) == 1
    assert "nothing to do" in capsys.readouterr().err


@pytest.mark.skipif(not SEED.is_file(), reason=f"the seed article is not at {SEED} (../shared is absent)")
def test_seed_article_ledger(resolver):
    record = json.loads(SEED.read_text(encoding="utf-8").splitlines()[0])
    text = record["text"]
    sentences = [{"text": text[s["start"]:s["end"]], "start": s["start"], "end": s["end"], "source": s["source"],
                  "claim_type": s["claim_type"]} for s in record["sentences"]]
    ledger = Ledger.from_results([{"id": record["id"], "date": "2017-11-03", "sentences": sentences}], resolver=resolver)
    estimates = {}
    for claim in ledger.claims:
        for figure in claim.figures:
            place = _place_of(claim, figure)
            estimates[figure.text] = (figure.value_min, figure.value_max, figure.counts, claim.source,
                                      place and place.geonameid, place and place.lat is not None)
    assert estimates["1,500-2,500"] == (1500, 2500, "fighters", "us_coalition", 92138, True)   # al-Qaim
    assert estimates["2,000-3,000"] == (2000, 3000, "fighters", "us_coalition", 174448, True)  # Albu Kamal
    control = [c for c in ledger.claims if c.claim_type == "territorial_control" and c.source == "syrian_army"
               and any(p.geonameid == 170794 for p in c.places)]
    assert control and control[0].event_date == dt.date(2017, 11, 3)


def test_cli_scores_raw_articles_on_the_way(tmp_path, tiny_checkpoint):
    source = tmp_path / "articles.jsonl"
    source.write_text(json.dumps({"id": "raw-1", "outlet": "wire", "date": "2017-03-08",
                                  "text": "Iraqi commanders announced that 30 militants were killed near Mosul."}) + "\n",
                      encoding="utf-8")
    out = tmp_path / "ledger.jsonl"
    assert main(["ledger", str(source), "--out", str(out), "--checkpoint", str(tiny_checkpoint), "--no-progress"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # The tiny model's labels are whatever it learnt; the row's shape and what the sentence states are not.
    assert all(r["article_id"] == "raw-1" and r["outlet"] == "wire" for r in rows)
    stated = [(f["value_min"], f["counts"]) for r in rows for f in r["figures"]]
    assert stated in ([(30.0, "killed")], [])
    assert not rows or rows[0]["places"][0]["geonameid"] == 99072


def _claims(resolver, *reports):
    """Claims from (outlet, date, sentence, source) reports, one article each, all casualties."""
    return Ledger.from_results([scored(f"r{i}", outlet, date, [(text, source, "casualties")])
                                for i, (outlet, date, text, source) in enumerate(reports)], resolver=resolver).claims


def test_different_attacks_in_one_city_are_not_one_event(resolver):
    claims = _claims(resolver,
                     ("east-wire", "2017-05-02", "Government air raids on rebel-held eastern Aleppo killed 15 people on Monday.", "other"),
                     ("west-wire", "2017-05-02", "Rebel shelling of government-held western Aleppo killed 120 people on Monday.", "other"))
    a, b = claims
    assert means(a) == {"air"} and means(b) == {"shelling"}
    assert attackers(a) == {"government"} and attackers(b) == {"rebels"}
    assert holders(a) == {"rebels"} and holders(b) == {"government"} and sides(a) == {"east"} and sides(b) == {"west"}
    assert not compatible(a, b) and contested_groups(claims) == []


def test_same_attack_with_other_figures_is_contested(resolver):
    claims = _claims(resolver,
                     ("monitor", "2017-05-02", "Air strikes on the market of Manbij killed 21 civilians on Monday, the monitor said.", "other"),
                     ("agency", "2017-05-02", "The agency said air strikes on the Manbij market killed 160 civilians on Monday.", "other"))
    (group,) = contested_groups(claims)
    assert group.place == "Manbij" and group.spread == pytest.approx(160 / 21, abs=1e-3) and group.score > 0


def test_stated_dates_and_victims_must_agree(resolver):
    monday, tuesday = _claims(resolver,
                              ("a", "2017-05-03", "Air strikes on Manbij killed 21 civilians on Monday.", "other"),
                              ("b", "2017-05-03", "Air strikes on Manbij killed 60 civilians on Tuesday.", "other"))
    assert not dates_agree(monday, tuesday) and contested_groups([monday, tuesday]) == []
    # A report published the day before cannot be about Tuesday's strikes.
    (early,) = _claims(resolver, ("c", "2017-05-01", "Air strikes on Manbij killed 21 civilians.", "other"))
    assert not dates_agree(early, tuesday)
    civilians, fighters = _claims(resolver,
                                  ("a", "2017-05-02", "Clashes near Manbij killed 12 civilians on Monday.", "other"),
                                  ("b", "2017-05-02", "Clashes near Manbij killed 40 rebels on Monday.", "other"))
    assert victims(civilians) == {"civilians"} and victims(fighters) == {"fighters"}
    assert contested_groups([civilians, fighters]) == []
    # "injured in terrorist attacks": the terrorists are the attackers, not the dead.
    (attacked,) = _claims(resolver, ("d", "2017-05-02", "Three civilians were killed and 9 injured in terrorist attacks.", "none"))
    assert victims(attacked) == {"civilians"}


@pytest.mark.parametrize("text", [
    "Another 300 civilians have been killed in fighting in Aleppo province, the monitor said.",
    "Five more civilians were killed in air strikes on Aleppo.",
    "The toll includes 126 people killed by shelling of Aleppo.",
    "The army said rebel fire on Aleppo killed 84 people in three days.",
    "Air strikes across the province of Aleppo killed 60 people.",
    "Rockets hit Aleppo and Damascus, killing 9 people.",
])
def test_running_totals_parts_and_roundups_are_not_one_event(resolver, text):
    (claim,) = _claims(resolver, ("x", "2017-05-02", text, "other"))
    assert not _usable(claim)


def test_child_counts_are_part_of_a_toll_not_a_rival_figure(resolver):
    claims = _claims(resolver,
                     ("a", "2017-05-02", "Air raids on Douma killed 32 people on Monday.", "other"),
                     ("b", "2017-05-02", "Six children were among the dead of the air raids on Douma on Monday.", "other"))
    assert contested_groups(claims) == []
