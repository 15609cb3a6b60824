"""factattr view and report.html without a browser: reading and checking the input, what the page holds
(every sentence with its labels, offsets, speaker and cue), the overview's counts, the contested claims,
and the command line. tests/test_view_browser.py opens the pages in Chromium."""

import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest

from factattr.cli import main
from factattr.config import Roles
from factattr.errors import ViewError
from factattr.view import read_articles, read_contested, render_view
from factattr.view.labels import _SOURCE_COLOURS, _SPARE
from factattr.view.overview import heatmap, speakers, timeline

from .view_fixtures import CLAIMS, SOURCES, contested_groups, scored_articles, write_contested, write_scored


class Sentences(HTMLParser):
    """Each ``.s`` element's attributes, the text of its ``.t`` child, and its underlined marks."""

    def __init__(self):
        super().__init__()
        self.found, self.stack = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "s" in classes:
            self.found.append({**attrs, "text": "", "badges": [], "marks": []})
        kind = "t" if "t" in classes else "b" if "b" in classes else "mk" if "mk" in classes else None
        self.stack.append((kind, attrs))

    def handle_endtag(self, tag):
        self.stack.pop()

    def handle_data(self, data):
        kinds = [k for k, _ in self.stack]
        if not self.found or not kinds:
            return
        if "t" in kinds:
            self.found[-1]["text"] += data
        if kinds[-1] == "b":
            self.found[-1]["badges"].append(data)
        if kinds[-1] == "mk":
            self.found[-1]["marks"].append((self.stack[-1][1]["class"], data))


def parse(html: str) -> list[dict]:
    parser = Sentences()
    parser.feed(html)
    return parser.found


@pytest.fixture
def scored(tmp_path):
    return write_scored(tmp_path / "scored.jsonl")


def test_page_holds_every_sentence_with_labels_offsets_speaker_and_cue(scored):
    articles = read_articles([scored])
    html = render_view(articles, title="test")
    found = parse(html)
    expected = [(a, s) for a in scored_articles() for s in a["sentences"]]
    assert len(found) == len(expected)
    for element, (article, s) in zip(found, expected):
        assert (int(element["data-start"]), int(element["data-end"])) == (s["start"], s["end"])
        assert element["text"] == article["text"][s["start"]:s["end"]] == s["text"]
        assert (element["data-h0"], element["data-h1"]) == (s["source"], s["claim_type"])
        assert element["badges"][:2] == [s["source"].replace("_", " "), s["claim_type"].replace("_", " ")]
        probs = [float(p) for p in element["data-p0"].split()]
        assert probs == pytest.approx([s["source_probs"][label] for label in SOURCES], abs=5e-4)
        probs = [float(p) for p in element["data-p1"].split()]
        assert probs == pytest.approx([s["claim_type_probs"][label] for label in CLAIMS], abs=5e-4)
        low = min(s["source_probs"][s["source"]], s["claim_type_probs"][s["claim_type"]]) < 0.6
        assert ("low" in element["class"].split()) == low == ("low confidence" in element["badges"])
        for kind in ("speaker", "cue"):
            if s[kind]:
                assert element[f"data-{kind}"] == s[kind]["text"]
                assert (f"mk mk-{kind}", s[kind]["text"]) in element["marks"]
    assert 'data-refers="A monitoring group"' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//|url\((?!#)|@import""", html)  # nothing to fetch


def test_gold_corpus_renders_without_probabilities(tmp_path):
    record = {k: v for k, v in scored_articles()[0].items()}
    record["sentences"] = [{k: s[k] for k in ("start", "end", "source", "claim_type")} for s in record["sentences"]]
    (tmp_path / "gold.jsonl").write_text(json.dumps(record) + "\n")
    html = render_view(read_articles([tmp_path / "gold.jsonl"]))
    found = parse(html)
    assert len(found) == 3 and all("data-p0" not in e and "data-conf" not in e for e in found)
    assert "given labels, not a model" in html and 'id="min-conf" min="0" max="1" step="0.05" value="0" disabled' in html


def test_text_between_sentences_is_kept_verbatim(scored):
    article = scored_articles()[0]
    html = render_view(read_articles([scored])[:1])
    body = re.search(r'<div class="body">(.*?)</div>', html, re.S).group(1)
    assert unescape(re.sub(r'<span class="b [^"]*">[^<]*</span>|<[^>]+>', "", body)) == article["text"]


def test_overview_counts(scored):
    articles = read_articles([scored])
    roles = Roles.defaults()
    counts = heatmap(articles, ("source", SOURCES), ("claim_type", CLAIMS))
    rows = {source: values for source, values, _ in counts["rows"]}
    assert rows["syrian_army"] == [1, 0, 0, 1, 0, 0] and rows["other"] == [0, 1, 0, 0, 1, 0]
    assert sum(counts["totals"]) == 8 and counts["svg"].startswith("<svg")
    time = timeline(articles, "source", SOURCES, {s: "#000000" for s in SOURCES}, roles)
    assert time["unit"] == "day" and time["undated"] == 1 and (time["first"], time["last"]) == ("2017-03-02", "2017-03-09")
    top = speakers(articles, {s: "#000000" for s in SOURCES}, roles)
    names = [name for name, *_ in top["rows"]]
    assert "Colonel Dale Harrow" in names and "It" in names and "Ain Qadr" not in " ".join(names)
    assert all(n == 1 for _, n, _, _ in top["rows"]) and len(names) == 7  # background and `none` left out


def test_speakers_fall_back_to_the_source_class(scored):
    articles = read_articles([scored])
    for a in articles:
        for s in a["sentences"]:
            s["speaker"] = None
    rows = speakers(articles, {s: "#000000" for s in SOURCES}, Roles.defaults())["rows"]
    assert rows[0][:2] == ("syrian army (source class)", 2) and rows[0][3] == "class"


def test_contested_claims_are_shown_with_figures_and_links(scored, tmp_path):
    groups = read_contested(write_contested(tmp_path / "contested.jsonl"))
    assert groups[0]["claims"][1]["pieces"][1] == {"text": "800", "figure": groups[0]["claims"][1]["figures"][0]}
    html = render_view(read_articles([scored]), groups)
    section = html[html.index('<section id="contested"'):html.index('<section id="articles"')]
    assert "Group 7: force strength in Ain Qadr" in section and "spread 0.62" in section
    assert '<mark class="fig" title="value 250 to 350">about 300</mark>' in section
    assert 'data-goto="1"' in section and section.count("data-goto") == 1  # the other article is not in the view
    assert 'id="contested"' not in render_view(read_articles([scored]))  # no ledger given: no section


@pytest.mark.parametrize("change, message", [
    (lambda g: g.pop("spread"), "'spread' must be int or float"),
    (lambda g: g["claims"].pop(), "at least two claims"),
    (lambda g: g["claims"][0]["figures"][0].update(start="x"), "claim 0, figure 0: 'start' must be int"),
])
def test_bad_contested_file_names_line_and_key(tmp_path, change, message):
    group = contested_groups()[0]
    change(group)
    path = tmp_path / "contested.jsonl"
    path.write_text("\n" + json.dumps(group) + "\n")
    with pytest.raises(ViewError, match=re.escape(message)) as info:
        read_contested(path)
    assert f"{path}:2" in str(info.value)


@pytest.mark.parametrize("change, message", [
    (lambda a: a["sentences"][1].update(start=a["sentences"][0]["start"] + 3), "overlap"),
    (lambda a: a["sentences"][0].update(speaker={"text": "x", "start": 5, "end": 9999}), "'speaker' needs integer"),
    (lambda a: a["sentences"][0].pop("claim_type"), "no 'claim_type' label"),
    (lambda a: a["sentences"][0]["source_probs"].update(none=1.5), "'source_probs' must map"),
])
def test_bad_scored_article_names_file_line_and_article(tmp_path, change, message):
    records = scored_articles()
    change(records[1])
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(ViewError, match=message) as info:
        read_articles([path])
    assert f"{path}:2" in str(info.value) and "view-002" in str(info.value)


def test_text_files_and_broken_json_lines(tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("[Draft] The army said it holds the crossing.\n")
    seen = []
    articles = read_articles([note], scorer=lambda: lambda texts: seen.extend(texts) or [
        [{"start": 8, "end": 44, "source": "syrian_army", "claim_type": "territorial_control"}]])
    assert seen == [note.read_text()] and articles[0]["id"] == "note" and articles[0]["sentences"][0]["start"] == 8
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(scored_articles()[0]) + "\n\n{not json\n")
    with pytest.raises(ViewError, match=f"{re.escape(str(broken))}:3: not valid JSON"):
        read_articles([broken])


def test_raw_articles_need_a_checkpoint_and_ids_are_unique(tmp_path):
    raw = tmp_path / "raw.jsonl"
    raw.write_text(json.dumps({"id": "r1", "text": "Some words here."}) + "\n")
    with pytest.raises(ViewError, match="give --checkpoint"):
        read_articles([raw])
    with pytest.raises(ViewError, match="already appears"):
        read_articles([raw, raw], scorer=lambda: None)


def test_cli_scores_raw_articles_and_reports_errors(tiny_checkpoint, tmp_path, capsys):
    texts = tmp_path / "raw.jsonl"
    texts.write_text("".join(json.dumps({"id": a["id"], "text": a["text"], "date": date}) + "\n"
                             for a, date in zip(scored_articles(), ["2017-01-01", "2017-02-01", "2017-03-01"])))
    out = tmp_path / "view.html"
    assert main(["view", str(texts), "--checkpoint", str(tiny_checkpoint), "--out", str(out), "--title", "Raw"]) == 0
    assert f"{out}: 3 article(s)" in capsys.readouterr().out
    html = out.read_text()
    assert "<title>Raw</title>" in html and len(parse(html)) > 0
    assert 'id="chart-timeline"' in html and "no article carries a readable" not in html  # the dates came along
    assert main(["view", str(texts), "--out", str(tmp_path / "no.html")]) == 1
    assert "give --checkpoint" in capsys.readouterr().err and not (tmp_path / "no.html").exists()
    with pytest.raises(SystemExit) as exit_info:
        main(["view", str(texts), "--out", str(out), "--low-confidence", "2"])
    assert exit_info.value.code == 2


def test_score_jsonl_keeps_title_outlet_and_date(tiny_checkpoint, tmp_path, capsys):
    texts = tmp_path / "raw.jsonl"
    texts.write_text(json.dumps({"id": "x", "title": "T", "outlet": "O", "date": "2017-01-05",
                                 "text": scored_articles()[0]["text"]}) + "\n")
    assert main(["score", "--format", "jsonl", "--checkpoint", str(tiny_checkpoint), str(texts)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["id"], record["title"], record["outlet"], record["date"]) == ("x", "T", "O", "2017-01-05")


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_colours_keep_text_readable():
    """WCAG AA: body text on each tint and white badge text on each badge colour reach 4.5:1."""
    for tint, badge in list(_SOURCE_COLOURS.values()) + _SPARE:
        assert _contrast("#1a1a1a", tint) >= 4.5 and _contrast("#ffffff", badge) >= 4.5


def test_report_html_from_evaluate(tiny_checkpoint, corpus_file, tmp_path):
    from factattr.eval.evaluate import run_evaluation

    report = run_evaluation(tiny_checkpoint, data=[str(corpus_file)], out=tmp_path / "r", baselines=False,
                            progress=False)
    html = (tmp_path / "r" / "report.html").read_text()
    r = report.results
    assert "<h2 id=\"systems-h\">Systems side by side</h2>" in html
    assert html.count("data:image/png;base64,") == 4 and "confusion_source.png" not in html
    assert f"{r['systems']['model']['source']['macro_f1']:.3f} [" in html
    assert html.count('<article class="err"') == len(r["errors"])
    for e in r["errors"]:
        assert "next" in e
        assert f'<mark class="hit">{e["text"].strip()}</mark>'.replace("'", "&#39;") in html
