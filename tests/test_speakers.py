"""The speaker-linking rule: who "he", "it" and "the spokesman" are, and which mentions are one speaker."""

from __future__ import annotations

import json

import pytest

from factattr.model.speakers import Mention, entities, is_person, kind_of, link_speakers, resolve


def mentions(text: str, *phrases: str) -> list[Mention]:
    out, start = [], 0
    for phrase in phrases:
        pos = text.index(phrase, start)
        out.append(Mention(pos, pos + len(phrase), phrase))
        start = pos + len(phrase)
    return out


@pytest.mark.parametrize("text,kind", [("he", "pronoun"), ("It", "pronoun"), ("the spokesman", "role"),
                                       ("the Britain-based monitor", "role"), ("Col. Ryan Dillon", "name"),
                                       ("a military source", "name"), ("SANA", "name"), ("monitor", "role")])
def test_kinds(text, kind):
    assert kind_of(text) == kind


@pytest.mark.parametrize("text,person", [("Col. Ryan Dillon", True), ("a military source", True),
                                         ("The Syrian Observatory", False), ("SANA", False),
                                         ("Residents", False), ("Rami Abdel Rahman", True)])
def test_person_or_party(text, person):
    assert is_person(text) is person


TEXT = ("The Syrian Observatory for Human Rights said 20 were killed. Col. Ryan Dillon, a coalition "
        "spokesman, said strikes hit Raqqa. It added that the toll would rise. He said more would come. "
        "Dillon said the city was surrounded. The monitor said it counted 12 more.")


def test_pronouns_prefer_their_kind_and_roles_their_head_noun():
    ms = mentions(TEXT, "The Syrian Observatory for Human Rights", "Col. Ryan Dillon", "It", "He", "Dillon",
                  "The monitor")
    links = link_speakers(ms)
    assert [l.text if l else None for l in links] == [
        None, None,
        "The Syrian Observatory for Human Rights",   # "it": the nearest party, not the nearer person
        "Col. Ryan Dillon",                          # "he": the nearest person
        None,                                        # a name refers to nothing ...
        "The Syrian Observatory for Human Rights",   # "the monitor": the Observatory by its role word
    ]
    ids = entities(ms)
    assert ids[1] == ids[3] == ids[4]                # ... but the surname joins Dillon's entity
    assert ids[0] == ids[2] == ids[5] != ids[1]


def test_nothing_earlier_means_no_link():
    ms = mentions("He said the town fell. The army said so.", "He", "The army")
    assert link_speakers(ms) == [None, None]
    assert len(set(entities(ms))) == 2


@pytest.mark.parametrize("text,kind", [("the AFP photographer", "role"), ("The Observatory director", "role"),
                                       ("the Syrian Observatory for Human Rights", "name"),
                                       ("an AFP photographer", "name"), ("Another", "role")])
def test_a_determiner_and_a_common_noun_head_is_a_role_whatever_names_qualify_it(text, kind):
    assert kind_of(text) == kind


def test_a_qualified_role_links_only_to_a_mention_with_its_names():
    text = ("An AFP photographer said the road was cut. Reuters said the bridge fell. "
            "The Turkish military said it shelled the town. The AFP photographer said smoke rose.")
    ms = mentions(text, "An AFP photographer", "Reuters", "The Turkish military", "it", "The AFP photographer")
    links = link_speakers(ms, text)
    assert links[2] is None                          # no earlier Turkish mention: a naming after all ...
    assert links[3].text == "The Turkish military"   # ... that a later "it" can stand for
    assert links[4].text == "An AFP photographer"    # not Reuters, the nearest party


def test_a_short_name_joins_the_fuller_name_of_its_own_type():
    text = ("The Syrian Observatory for Human Rights said 20 died. Observatory director Rami Abdel Rahman said "
            "more were missing. The Observatory said the toll would rise.")
    ms = mentions(text, "The Syrian Observatory for Human Rights", "Observatory director Rami Abdel Rahman",
                  "The Observatory")
    ids = entities(ms, text)
    assert ids[2] == ids[0] != ids[1]


def test_a_statement_stands_for_the_speaker_that_issued_one():
    text = ("The U.S. military said in a statement that strikes hit Raqqa. Activists said 12 died. "
            "The statement said the strikes would go on.")
    ms = mentions(text, "The U.S. military", "Activists", "The statement")
    assert link_speakers(ms, text)[2].text == "The U.S. military"   # not the nearer activists


def test_names_in_the_narration_are_candidates_for_roles_of_their_head_noun():
    text = ("Doctors of the Union of Syrian Medical Relief Organisations reached the town on Monday. "
            "Activists said the road was cut. The union said three clinics were hit.")
    ms = mentions(text, "Activists", "The union")
    assert link_speakers(ms, ranker=False)[1].text == "Activists"   # the rule, with no union among the speakers
    assert link_speakers(ms)[1] is None                             # the ranker: nobody earlier
    for ranker in (True, False):
        assert "Union of Syrian Medical Relief Organisations" in link_speakers(ms, text, ranker)[1].text


def test_a_pronoun_takes_a_narrated_name_only_when_no_speaker_came_before():
    text = "Dr Karim Haddad treated the wounded in Douma on Monday. He said supplies were short."
    assert link_speakers(mentions(text, "He"), text)[0].text == "Dr Karim Haddad"
    text = ("A military source said the town fell. Dr Karim Haddad treated the wounded in Douma on Monday. "
            "He said supplies were short.")
    assert link_speakers(mentions(text, "A military source", "He"), text)[1].text == "A military source"


def test_a_surname_is_typed_by_the_name_it_repeats():
    # "Dillon" alone could be a party's name; as Col. Ryan Dillon's surname it is a person, and the
    # nearest person before "He" (not Rami Abdel Rahman, who spoke in between).
    text = ("Col. Ryan Dillon said strikes hit Raqqa. Observatory director Rami Abdel Rahman said 20 died. "
            "Dillon said the city was surrounded. He said more would come.")
    ms = mentions(text, "Col. Ryan Dillon", "Observatory director Rami Abdel Rahman", "Dillon", "He")
    assert link_speakers(ms, text)[3].text == "Col. Ryan Dillon"


def test_a_particle_is_no_surname():
    # A speaker cut short at "Al" is not the earlier "Muaz Al Shami".
    text = "Muaz Al Shami said the market was hit. A spokesman named Yasser Al said fighters withdrew."
    ms = mentions(text, "Muaz Al Shami", "Yasser Al")
    ids = entities(ms, text)
    assert ids[0] != ids[1]


@pytest.mark.parametrize("text", ["a relative", "A survivor", "the journalist Hala Ahmed", "a local nurse"])
def test_people_by_what_they_are(text):
    assert is_person(text)


def test_he_is_the_relative_who_spoke_last():
    text = "Col. Ryan Dillon said strikes hit Raqqa. The groom's father was killed a relative told AFP. He said so."
    ms = mentions(text, "Col. Ryan Dillon", "a relative", "He")
    assert link_speakers(ms, text)[2].text == "a relative"


@pytest.mark.parametrize("text,person", [("Manal", True), ("Ahmad", True), ("Syria", False), ("Jordan", False),
                                         ("Damascus", False), ("Amaq", False), ("Hezbollah", False)])
def test_a_lone_given_name_is_a_person_and_a_place_is_not(text, person):
    assert is_person(text) is person


def test_she_is_the_woman_named_by_her_given_name_alone():
    text = ("Interior Minister Mohammed Shaar said the attacker entered. Manal said her brother was wounded. "
            "She said the blast shook the street.")
    ms = mentions(text, "Interior Minister Mohammed Shaar", "Manal", "She")
    assert link_speakers(ms, text)[2].text == "Manal"    # a lone given name was a party before: "she" skipped it


def test_a_hyphenated_title_makes_a_person_and_a_hyphenated_adjective_does_not():
    assert is_person("SDF commander-in-chief Mazloum Abdi")
    assert not is_person("The activist-run Palmyra Coordination Committee")


def test_a_surname_repeats_a_name_through_its_particle():
    text = "Prime Minister Haider al-Abadi said the city fell. Abadi said the advance would slow."
    ms = mentions(text, "Prime Minister Haider al-Abadi", "Abadi")
    assert resolve(ms, text)[1] == ms[0]               # "Abadi" is al-Abadi, so typed a person


# The learned rankers (rule 2 and rule 4 with weights) and their fitting.
from factattr.model.speakers import linker_weights, pronoun_features, role_features  # noqa: E402

from .conftest import REPO, SHARED  # noqa: E402


def test_pronoun_features_say_type_gender_and_who_spoke_last():
    text = ("Interior Minister Mohammed Shaar said the attacker entered. The Syrian Observatory said 17 died. "
            "Manal said her brother was hurt. She said the blast shook the street.")
    ms = mentions(text, "Interior Minister Mohammed Shaar", "The Syrian Observatory", "Manal", "She")
    naming = {m: m for m in ms}
    rows = pronoun_features(ms[3], ms[:3], ms[:3], naming)
    minister, observatory, manal = rows
    assert minister["gender_clash"] == 1 and minister["type_fits"] == 1 and minister["last_speaker"] == 0
    assert observatory["type_clash"] == 1 and observatory["gender_clash"] == 0
    assert manal["gender_fits"] == 1 and manal["last_speaker"] == 1 and manal["nearest_fitting"] == 1
    assert minister["log_distance"] > observatory["log_distance"] > manal["log_distance"] >= 0


def test_role_features_describe_each_candidate_and_nobody_earlier():
    text = ("Doctors Without Borders said 40 were wounded. State television said the army advanced. "
            "The aid group said its clinic was hit.")
    ms = mentions(text, "Doctors Without Borders", "State television", "The aid group")
    naming = {m: m for m in ms}
    msf, television, nobody = role_features(ms[2], ms[:2], ms[:2], naming, text)
    assert television["last_speaker"] == 1 and television["nearest"] == 1 and msf["last_speaker"] == 0
    assert msf["type_clash"] == television["type_clash"] == 0 and msf["same_head"] == 0
    assert nobody["nobody"] == 1 and nobody["nobody_same_head"] == 1 and nobody["nobody_head=group"] == 1
    assert nobody["nobody_words"] == 2 and all(nobody[k] == 0 for k in msf if not k.startswith("nobody"))
    assert all(row.get(k, 0) == 0 for row in (msf, television) for k in nobody if k.startswith("nobody"))
    assert msf["word_overlap"] == 0 and msf["log_distance"] > television["log_distance"]


def test_the_package_ranks_pronouns_and_roles_and_the_rules_remain_without_weights():
    weights = linker_weights()
    assert weights is not None and set(weights) == {"pronoun", "role"}
    assert all(len(w["coef"]) == len(w["features"]) for w in weights.values())
    ms = mentions(TEXT, "The Syrian Observatory for Human Rights", "Col. Ryan Dillon", "It", "He", "Dillon",
                  "The monitor")
    for ranker in (True, False):
        links = link_speakers(ms, TEXT, ranker=ranker)
        assert [l.text if l else None for l in links[2:]] == [
            "The Syrian Observatory for Human Rights", "Col. Ryan Dillon", None,
            "The Syrian Observatory for Human Rights"]


def test_a_role_that_names_its_speaker_first_joins_nobody_earlier():
    # "The army general command" is a first naming: linking it to the last party that spoke (the rule's
    # fallback) would make state television the speaker of the command's claims, and of its "It"
    text = ("State television said troops entered the city. The army general command said the capture "
            "was an achievement. It said the jihadists had fled.")
    ms = mentions(text, "State television", "The army general command", "It")
    assert [l.text if l else None for l in link_speakers(ms, text, ranker=False)] == [
        None, "State television", "State television"]
    assert [l.text if l else None for l in link_speakers(ms, text)] == [None, None, "The army general command"]
    ids = entities(ms, text)
    assert ids[1] == ids[2] != ids[0]


def _annotated(tmp_path, openers, third):
    """Eight three-sentence articles with gold spans: two speakers from ``openers`` and a third sentence
    whose speaker (``third(second)``: its text and kind) stands for the second."""
    from factattr.data.spans import attach_spans
    from factattr.data.standoff import text_hash
    from factattr.data.types import Article

    articles, records = [], []
    for n in range(8):
        first, second = openers[n % 4], openers[(n + 1) % 4]
        speaker, kind = third(second)
        parts = [f"{first} said 20 were killed.", f"{second} said the town fell.", f"{speaker} added that more would come."]
        text, bounds = " ".join(parts), []
        for part in parts:
            start = bounds[-1][1] + 1 if bounds else 0
            bounds.append((start, start + len(part)))
        sentences = [{"start": s, "end": e, "source": "other", "claim_type": "casualties"} for s, e in bounds]
        articles.append(Article.from_dict({"id": f"a{n}", "text": text, "sentences": sentences}))
        spans = [(s, s + len(name)) for (s, _), name in zip(bounds, (first, second, speaker))]
        records.append({"id": f"a{n}", "sha256": text_hash(text),
                        "entities": [{"entity": "E1", "start": spans[0][0], "end": spans[0][1]},
                                     {"entity": "E2", "start": spans[1][0], "end": spans[1][1]}],
                        "sentences": [{"i": i, "speaker": {"start": s, "end": e, "kind": k},
                                       "cue": {"start": e + 1, "end": e + 5 + (i == 2)}, "entity": "E2" if i else "E1"}
                                      for i, ((s, e), k) in enumerate(zip(spans, ("name", "name", kind)))]})
    path = tmp_path / "spans.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    attached, problems = attach_spans(articles, [str(path)])
    assert problems == []
    return attached


def test_fitting_the_rankers_on_annotated_articles(tmp_path):
    from factattr.training.linker import fit_linker, ranking_accuracy, write_linker

    pronouns = {"Col. Ryan Dillon": "He", "SANA": "It", "Residents": "They", "Sara Ahmed": "She"}
    roles = {"Col. Ryan Dillon": "The spokesman", "SANA": "The agency", "Residents": "The residents",
             "Sara Ahmed": "The teacher"}
    attached = (_annotated(tmp_path, list(pronouns), lambda second: (pronouns[second], "pronoun"))
                + _annotated(tmp_path, list(roles), lambda second: (roles[second], "role")))
    weights = fit_linker(attached)
    assert weights["pronoun"]["examples"] == 8 and weights["pronoun"]["candidates"] == 16
    assert weights["role"]["examples"] == 8 and weights["role"]["candidates"] == 24    # two and nobody earlier
    assert ranking_accuracy(attached, weights) == {"pronoun": (8, 8), "role": (8, 8)}
    write_linker(weights, tmp_path / "linker.json")
    assert json.loads((tmp_path / "linker.json").read_text(encoding="utf-8")) == weights


def test_cross_validation_fits_on_the_other_folds_and_counts_every_example_once(tmp_path):
    from factattr.training.linker import cross_validate, gold_links

    pronouns = {"Col. Ryan Dillon": "He", "SANA": "It", "Residents": "They", "Sara Ahmed": "She"}
    attached = _annotated(tmp_path, list(pronouns), lambda second: (pronouns[second], "pronoun"))
    roles = {"Col. Ryan Dillon": "The spokesman", "SANA": "The agency", "Residents": "The residents",
             "Sara Ahmed": "The teacher"}
    attached += _annotated(tmp_path, list(roles), lambda second: (roles[second], "role"))
    figures = cross_validate(attached, folds=4)
    assert figures["decisions"]["pronoun"][1] == figures["links"]["pronoun"][1] == 8
    assert figures["decisions"]["role"][1] == figures["links"]["role"][1] == 8
    assert figures["rules"] == gold_links(attached, False) == {"pronoun": (8, 8), "role": (8, 8)}
    assert figures["links"]["pronoun"] == (8, 8)


@pytest.mark.skipif(not (SHARED / "realtrain" / "articles.jsonl").is_file(), reason="needs ../shared/realtrain")
def test_the_shipped_weights_are_the_fit_of_the_default_training_split(tmp_path, capsys):
    from factattr.cli import main

    assert main(["fit-linker", "--config", str(REPO / "configs" / "default.yaml"), "--out", str(tmp_path / "w.json")]) == 0
    out = capsys.readouterr().out
    assert "dev:" in out and "roles linked" in out
    fitted = json.loads((tmp_path / "w.json").read_text(encoding="utf-8"))
    shipped = json.loads((REPO / "model" / "linker.json").read_text(encoding="utf-8"))
    for kind in ("pronoun", "role"):
        assert fitted[kind]["features"] == shipped[kind]["features"]
        assert fitted[kind]["examples"] == shipped[kind]["examples"]
        assert fitted[kind]["coef"] == pytest.approx(shipped[kind]["coef"], abs=1e-3)


@pytest.mark.parametrize("text,person", [("the general", True), ("The General Command", False),
                                         ("The Syrian army General Command", False), ("Warren", True),
                                         ("Paris", False)])
def test_general_is_a_rank_beside_no_party_word_and_a_small_town_no_name(text, person):
    assert is_person(text) is person


def test_fit_linker_without_span_annotations_says_what_to_add(corpus_file, tmp_path, capsys):
    from factattr.cli import main

    out = tmp_path / "w.json"
    assert main(["fit-linker", "--config", str(REPO / "configs" / "tiny.yaml"), "--set", f"data.corpus={corpus_file}",
                 "--out", str(out)]) != 0
    assert "data.sources[].spans" in capsys.readouterr().err and not out.exists()
