"""The schema's roles: the config checks them, the ledger and the view take the heads' names from them, a
three-head schema of another war renders in the view, and the ledger refuses a schema without the roles
it needs. (No model: scored files are written by hand.)"""

import json
import random
import re

import pytest
import yaml

from factattr.cli import main
from factattr.config import DEFAULT_ROLES, Roles, load_config
from factattr.errors import ConfigError
from factattr.ledger import Ledger
from factattr.view import read_articles, render_view

from .conftest import REPO
from .test_other_schema import SCHEMA, make_article, write_config
from .test_view import parse


def _probs(labels: list[str], chosen: str, p: float) -> dict[str, float]:
    rest = (1 - p) / (len(labels) - 1)
    return {label: round(p if label == chosen else rest, 6) for label in labels}


def scored_three_heads(count: int = 4) -> list[dict]:
    """Articles of the other-schema test, scored as `factattr score --format jsonl` writes them (each
    sentence's text, then a label per head, then each head's probabilities)."""
    rng, out = random.Random(3), []
    for index in range(count):
        article = make_article(index, rng)
        sentences = []
        for n, s in enumerate(article["sentences"]):
            labels = {head: s[head] for head in SCHEMA}
            sentences.append({"text": article["text"][s["start"]:s["end"]], "start": s["start"], "end": s["end"],
                              **labels, **{f"{h}_probs": _probs(SCHEMA[h], labels[h], 0.5 + 0.1 * (n % 5))
                                           for h in SCHEMA}})
        out.append({**article, "outlet": f"desk-{index % 2}", "sentences": sentences})
    return out


def write_lines(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def config_with_roles(tmp_path, roles: dict | None):
    path, _ = write_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    if roles is not None:
        raw["roles"] = roles
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_default_config_has_the_default_roles():
    roles = load_config(REPO / "configs" / "default.yaml", check_files=False).roles
    assert roles == Roles.defaults() and roles.model_dump() == DEFAULT_ROLES


def test_roles_left_out_are_fitted_to_the_schema(tmp_path):
    roles = load_config(config_with_roles(tmp_path, None)).roles
    # the other war's schema has a `source` head with `none`, but no `claim_type` head
    assert (roles.attribution, roles.narration, roles.claim, roles.no_claim, roles.control) == (
        "source", "none", None, None, None)
    roles = load_config(config_with_roles(tmp_path, {"claim": "claim", "attribution": None})).roles
    assert (roles.attribution, roles.narration, roles.claim, roles.no_claim, roles.control) == (
        None, None, "claim", "background", "territorial_control")


@pytest.mark.parametrize("roles, message", [
    ({"attribution": "speaker"}, "roles.attribution: 'speaker' is not a head; the heads are ['source', 'claim', "
                                 "'certainty']"),
    ({"claim": "claim", "no_claim": "context"}, "roles.no_claim: 'context' is not a label of head 'claim'"),
    ({"attribution": None, "narration": "none"}, "roles.narration: 'none' is a label of the roles.attribution head, "
                                                 "which is not set"),
    ({"role": "x"}, "roles.role: unknown key"),
])
def test_bad_roles_name_the_key_and_the_fix(tmp_path, roles, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(config_with_roles(tmp_path, roles))


def test_view_renders_a_three_head_schema(tmp_path):
    records = scored_three_heads()
    scored = write_lines(tmp_path / "ua-scored.jsonl", records)
    articles = read_articles([scored])
    roles = load_config(config_with_roles(tmp_path, {"claim": "claim"})).roles
    html = render_view(articles, title="Another war", roles=roles)
    found = parse(html)
    expected = [s for r in records for s in r["sentences"]]
    assert len(found) == len(expected)
    for element, s in zip(found, expected):
        assert [element[f"data-h{k}"] for k in range(3)] == [s[h] for h in SCHEMA]
        assert element["badges"][:3] == [s[h].replace("_", " ") for h in SCHEMA]
        for k, head in enumerate(SCHEMA):  # every head's probabilities, in the schema's label order
            assert [float(p) for p in element[f"data-p{k}"].split()] == pytest.approx(
                [s[f"{head}_probs"][label] for label in SCHEMA[head]], abs=5e-4)
        low = min(s[f"{h}_probs"][s[h]] for h in SCHEMA) < 0.6
        assert ("low" in element["class"].split()) == low
    settings = json.loads(re.search(r'<script type="application/json" id="fa-settings">(.*?)</script>', html).group(1))
    assert [(h["name"], h["labels"]) for h in settings["heads"]] == [(h, labels) for h, labels in SCHEMA.items()]
    for k, head in enumerate(SCHEMA):
        assert f'<fieldset id="f-h{k}"><legend>{head.capitalize()}</legend>' in html
    assert "Every sentence counted by its source (rows) and claim (columns); <em>background</em> makes no new" in html
    assert re.search(r"Claims per \w+ and source", html) and 'id="chart-speakers"' in html


def test_view_colours_the_attribution_head_and_works_without_roles(tmp_path):
    # the attribution head is not first here: it still takes the colours and the first badge
    records = [{**r, "sentences": [{"certainty": s["certainty"], **s} for s in r["sentences"]]}
               for r in scored_three_heads(2)]
    scored = write_lines(tmp_path / "reordered.jsonl", records)
    html = render_view(read_articles([scored]), roles=Roles.defaults())
    first = parse(html)[0]
    assert first["data-h0"] == records[0]["sentences"][0]["source"] and first["badges"][0] == first["data-h0"].replace(
        "_", " ")
    bare = render_view(read_articles([scored]), roles=Roles())  # no roles at all: the first head colours
    assert parse(bare)[0]["data-h0"] == records[0]["sentences"][0]["certainty"]
    assert "names no attribution head (roles.attribution)" in bare
    assert re.search(r"Sentences per \w+ and certainty", bare)


def test_cli_view_with_the_schema_config(tmp_path, capsys):
    scored = write_lines(tmp_path / "ua-scored.jsonl", scored_three_heads())
    config = config_with_roles(tmp_path, {"claim": "claim"})
    out = tmp_path / "view.html"
    assert main(["view", str(scored), "--out", str(out), "--config", str(config)]) == 0
    assert len(parse(out.read_text())) == sum(len(r["sentences"]) for r in scored_three_heads())
    without = [{**r, "sentences": [{k: v for k, v in s.items() if k != "certainty"} for s in r["sentences"]]}
               for r in scored_three_heads(1)]
    broken = write_lines(tmp_path / "broken.jsonl", without)
    assert main(["view", str(broken), "--out", str(tmp_path / "no.html"), "--config", str(config)]) == 1
    assert "has no 'certainty' label" in capsys.readouterr().err and not (tmp_path / "no.html").exists()


def test_ledger_takes_the_heads_names_from_the_roles(tmp_path):
    roles = load_config(config_with_roles(tmp_path, {"claim": "claim"})).roles
    ledger = Ledger.from_results(scored_three_heads(), roles=roles)
    frame = ledger.to_pandas()
    assert list(frame.columns) == ["article_id", "outlet", "date", "start", "end", "text", "source", "speaker", "claim",
                                   "figures", "places", "event_date", "event_date_text"]
    assert "background" not in set(frame["claim"]) and len(frame) == 4 * 4  # one background sentence an article
    claim = ledger.claims[0]
    assert (claim.source, claim.claim) == (claim.attribution, claim.kind)
    path = ledger.write(tmp_path / "ledger.jsonl")
    assert Ledger.read(path, roles=roles).claims == ledger.claims
    with pytest.raises(Exception, match=r"lacks the column\(s\) \['claim_type'\]"):
        Ledger.read(path)  # the default schema's roles: its claim column is claim_type


def test_ledger_refuses_a_schema_without_the_attribution_role(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"the claims ledger needs roles\.attribution \(the head that says who makes"):
        Ledger(roles=Roles(claim="claim"))
    scored = write_lines(tmp_path / "ua-scored.jsonl", scored_three_heads(1))
    config = config_with_roles(tmp_path, {"attribution": None, "claim": "claim"})
    assert main(["ledger", str(scored), "--out", str(tmp_path / "l.jsonl"), "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "roles.attribution" in err and "`roles` section" in err and "Traceback" not in err
    assert not (tmp_path / "l.jsonl").exists()
    # the other war's config without a roles section has no claim head role: the ledger says so
    assert main(["ledger", str(scored), "--out", str(tmp_path / "l.jsonl"),
                 "--config", str(config_with_roles(tmp_path, None))]) == 1
    assert "needs roles.claim (the head that says what kind of claim" in capsys.readouterr().err
