"""The scoring API and CLI on a tiny trained checkpoint."""

import json
import subprocess
import sys

import pytest

from factattr import Tagger
from factattr.errors import CheckpointError, InputError

from .conftest import rehash

ARTICLE = ("Army retakes Palmyra, SANA says\n\nThe Syrian army said it retook Palmyra. A military source told SANA "
           "that jets struck Raqqa.\n\nPalmyra is a town on the Euphrates river.")
AWKWARD = ("\u201cQuoted\u201d caf\u00e9 na\u00efve \u2014 The coalition said ISIL has 900 fighters left in Raqqa.\r\n"
           "  \u0627\u0644\u0631\u0642\u0629 \U0001F4A5 The Observatory warned the fighting in Mosul would get worse.  ")


def test_score_labels_sentences_with_offsets_and_probabilities(tagger):
    result = tagger.score(ARTICLE)
    assert [s.text for s in result.sentences] == [
        "Army retakes Palmyra, SANA says", "The Syrian army said it retook Palmyra.",
        "A military source told SANA that jets struck Raqqa.", "Palmyra is a town on the Euphrates river."]
    for s in result.sentences:
        assert ARTICLE[s.start:s.end] == s.text
        assert set(s.source_probs) == set(tagger.labels["source"]) and abs(sum(s.source_probs.values()) - 1) < 1e-5
        assert abs(sum(s.claim_type_probs.values()) - 1) < 1e-5
        assert s.source == max(s.source_probs, key=s.source_probs.get)
    # The tiny model has learnt the synthetic templates.
    assert [(s.source, s.claim_type) for s in result.sentences[1:]] == [
        ("syrian_army", "territorial_control"), ("anonymous_officer", "military_action"), ("none", "background")]


def test_to_dict_is_json_ready(tagger):
    data = tagger.score(ARTICLE).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["sentences"][0].keys() == {"text", "start", "end", "source", "claim_type", "source_probs", "claim_type_probs",
                                           "speaker", "cue"}


@pytest.mark.parametrize("bad, message", [
    ("", "empty or only white space"), ("  \n\t ", "empty or only white space"),
    (None, "must be str, got NoneType"), (b"bytes", "got bytes; decode it first"), (42, "must be str, got int"),
])
def test_bad_input_is_refused_plainly(tagger, bad, message):
    with pytest.raises(InputError, match=message):
        tagger.score(bad)


def test_bad_input_in_a_stream_names_its_position(tagger):
    with pytest.raises(InputError, match=r"text #1 is empty"):
        list(tagger.score_many([ARTICLE, ""]))


def test_offsets_on_awkward_unicode(tagger):
    result = tagger.score(AWKWARD)
    assert len(result.sentences) >= 2
    for s in result.sentences:
        assert AWKWARD[s.start:s.end] == s.text and s.text == s.text.strip()


def test_batch_equals_single_and_is_deterministic(tagger):
    texts = [ARTICLE, AWKWARD, ARTICLE.replace("Palmyra", "Manbij"), "One short line about Mosul"]
    alone = [tagger.score(t) for t in texts]
    batched = list(tagger.score_many(texts, articles_per_group=3))
    assert len(batched) == len(texts)
    for a, b in zip(alone, batched):
        assert [(s.start, s.end, s.source, s.claim_type) for s in a.sentences] == \
               [(s.start, s.end, s.source, s.claim_type) for s in b.sentences]
        for sa, sb in zip(a.sentences, b.sentences):
            for label in sa.source_probs:
                assert sa.source_probs[label] == pytest.approx(sb.source_probs[label], abs=1e-5)
    assert tagger.score(ARTICLE) == tagger.score(ARTICLE)


def test_long_article_is_windowed_not_truncated(tagger):
    sentence = "The coalition said ISIL has 500 fighters left in Raqqa."
    text = " ".join([sentence] * 60)  # far beyond one 64-token window
    result = tagger.score(text)
    assert len(result.sentences) == 60
    assert result.sentences[-1].end == len(text)
    assert all(abs(sum(s.source_probs.values()) - 1) < 1e-5 for s in result.sentences)
    # It took many windows, and every sentence was predicted in exactly one of them.
    from factattr.model.inference import encode_articles

    windows = encode_articles(tagger.tokenizer, tagger.model, [text], [[(s.start, s.end) for s in result.sentences]])
    assert len(windows) > 10
    assert sorted(i for w in windows for i, t in zip(w.sentences, w.targets) if t) == list(range(60))


def test_int8_path_loads_and_agrees(tiny_checkpoint, tagger):
    int8 = Tagger.load(tiny_checkpoint, quantize="dynamic_int8")
    a, b = tagger.score(ARTICLE), int8.score(ARTICLE)
    assert [s.source for s in a.sentences] == [s.source for s in b.sentences]


@pytest.fixture(scope="module")
def onnx_tagger(tiny_checkpoint):
    return Tagger.load(tiny_checkpoint, backend="onnxruntime")


def test_onnx_backend_gives_the_torch_scores(tagger, onnx_tagger):
    texts = [ARTICLE, AWKWARD, " ".join(["The coalition said ISIL has 500 fighters left in Raqqa."] * 40)]
    for a, b in zip(tagger.score_many(texts), onnx_tagger.score_many(texts)):
        assert [(s.start, s.end, s.source, s.claim_type) for s in a.sentences] == \
               [(s.start, s.end, s.source, s.claim_type) for s in b.sentences]
        for sa, sb in zip(a.sentences, b.sentences):
            for label in sa.source_probs:
                assert sa.source_probs[label] == pytest.approx(sb.source_probs[label], abs=1e-4)
            for label in sa.claim_type_probs:
                assert sa.claim_type_probs[label] == pytest.approx(sb.claim_type_probs[label], abs=1e-4)


def test_onnx_batch_equals_single(onnx_tagger):
    texts = [ARTICLE, AWKWARD, ARTICLE.replace("Palmyra", "Manbij")]
    alone = [onnx_tagger.score(t) for t in texts]
    batched = list(onnx_tagger.score_many(texts, articles_per_group=2))
    for a, b in zip(alone, batched):
        assert [(s.start, s.end, s.source, s.claim_type) for s in a.sentences] == \
               [(s.start, s.end, s.source, s.claim_type) for s in b.sentences]
        for sa, sb in zip(a.sentences, b.sentences):
            assert sa.source_probs == pytest.approx(sb.source_probs, abs=1e-5)


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
@pytest.mark.parametrize("threads", [1, 2])
def test_int8_batch_equals_single_exactly(tiny_checkpoint, onnx_cache, backend, threads):
    # Dynamic int8 picks one activation scale per forward pass: an article's windows must not share a
    # pass with another article's, or its scores would depend on what it is scored with. With two
    # threads, two articles are scored at once (each on its own); with one, in groups.
    int8 = Tagger.load(tiny_checkpoint, backend=backend, quantize="dynamic_int8", windows_per_pass=4, threads=threads)
    assert (int8.workers, int8.threads) == (threads, 1)
    long = " ".join(["The coalition said ISIL has 500 fighters left in Raqqa."] * 12)
    texts = [ARTICLE, AWKWARD, long, "One short line about Mosul", ARTICLE.replace("Palmyra", "Manbij")]
    alone = [int8.score(t) for t in texts]
    for batched in (list(int8.score_many(texts)), list(int8.score_many(texts[::-1]))[::-1],
                    int8.score_spans(texts, [[(s.start, s.end) for s in a.sentences] for a in alone])):
        assert [a.to_dict() for a in alone] == [b.to_dict() for b in batched]
    with pytest.raises(InputError, match="text #2 is empty"):
        list(int8.score_many([ARTICLE, AWKWARD, "  ", ARTICLE]))


def test_onnx_int8_agrees_with_fp32(tiny_checkpoint, onnx_tagger):
    int8 = Tagger.load(tiny_checkpoint, backend="onnxruntime", quantize="dynamic_int8")
    assert int8.model.onnx_path.name == "encoder-int8.onnx"
    a, b = onnx_tagger.score(ARTICLE), int8.score(ARTICLE)
    assert [s.source for s in a.sentences] == [s.source for s in b.sentences]
    assert [s.claim_type for s in a.sentences] == [s.claim_type for s in b.sentences]
    assert all(abs(sum(s.source_probs.values()) - 1) < 1e-5 for s in b.sentences)


def test_onnx_export_is_cached_per_weights(tiny_checkpoint, onnx_tagger, onnx_cache, tmp_path):
    import shutil

    path = onnx_tagger.model.onnx_path
    assert path.is_relative_to(onnx_cache)
    assert not (tiny_checkpoint / "onnx").exists()           # the checkpoint directory is never written to
    stamp = path.stat().st_mtime_ns
    again = Tagger.load(tiny_checkpoint, backend="onnxruntime")
    assert again.model.onnx_path == path and path.stat().st_mtime_ns == stamp  # reused, not re-exported
    assert not list(path.parent.glob("*.tmp"))                # no leftovers from the atomic writes
    # Other weights get their own export: a stale file is never used for a changed checkpoint.
    other = shutil.copytree(tiny_checkpoint, tmp_path / "other")
    from safetensors.torch import load_file, save_file

    weights = load_file(other / "model.safetensors")
    weights["heads.source.bias"] = weights["heads.source.bias"] + 1.0
    save_file(weights, other / "model.safetensors")
    rehash(other)
    assert Tagger.load(other, backend="onnxruntime").model.onnx_path.parent != path.parent


def test_unknown_backend_or_quantisation_is_refused(tiny_checkpoint):
    with pytest.raises(InputError, match="backend must be 'torch' or 'onnxruntime'"):
        Tagger.load(tiny_checkpoint, backend="tensorrt")
    with pytest.raises(InputError, match="quantize must be"):
        Tagger.load(tiny_checkpoint, quantize="fp4")


def test_load_refuses_a_non_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="has no config.json"):
        Tagger.load(tmp_path)


def run_cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "factattr.cli", *args], input=stdin, capture_output=True, text=True)


def test_cli_score_table_json_and_jsonl(tiny_checkpoint, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    table = run_cli("score", str(path), "--checkpoint", str(tiny_checkpoint))
    assert table.returncode == 0, table.stderr
    assert "anonymous_officer" in table.stdout and "A military source told SANA" in table.stdout
    as_json = json.loads(run_cli("score", str(path), "--checkpoint", str(tiny_checkpoint), "--format", "json").stdout)
    assert len(as_json["sentences"]) == 4
    lines = "\n".join(json.dumps({"id": f"x{i}", "text": t}) for i, t in enumerate([ARTICLE, AWKWARD]))
    jsonl = run_cli("score", "--checkpoint", str(tiny_checkpoint), "--format", "jsonl", stdin=lines)
    out = [json.loads(l) for l in jsonl.stdout.splitlines()]
    assert [o["id"] for o in out] == ["x0", "x1"] and out[0]["sentences"][0]["start"] == 0


def test_cli_backend_choice_gives_the_same_labels(tiny_checkpoint, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    runs = {backend: run_cli("score", str(path), "--checkpoint", str(tiny_checkpoint), "--format", "json",
                             "--backend", backend) for backend in ("torch", "onnxruntime")}
    assert all(r.returncode == 0 for r in runs.values()), [r.stderr for r in runs.values()]
    labels = {b: [(s["source"], s["claim_type"]) for s in json.loads(r.stdout)["sentences"]] for b, r in runs.items()}
    assert labels["torch"] == labels["onnxruntime"] and len(labels["torch"]) == 4


def test_cli_refuses_empty_input(tiny_checkpoint):
    result = run_cli("score", "--checkpoint", str(tiny_checkpoint), stdin="   \n")
    assert result.returncode == 1 and "empty or only white space" in result.stderr
