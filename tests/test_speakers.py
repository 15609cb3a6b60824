"""The speaker-linking rule: who "he", "it" and "the spokesman" are, and which mentions are one speaker."""

from __future__ import annotations

import pytest

from factattr.model.speakers import Mention, entities, is_person, kind_of, link_speakers


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
