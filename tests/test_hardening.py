"""Issue 18: nothing silently wrong, nothing lost. Each test reproduces one of the issue's defects."""

import io
import json
import shutil
import subprocess
import sys

import pytest
import yaml

from factattr import Tagger
from factattr.cli import main
from factattr.config import load_config
from factattr.errors import CheckpointError, ConfigError, CorpusError, InputError
from factattr.model.checkpoint import load_checkpoint

from .conftest import REPO, rehash, tiny_overrides

ARTICLE = "The Syrian army said it retook Palmyra. A military source told SANA that jets struck Raqqa."


@pytest.fixture
def copy(tiny_checkpoint, tmp_path):
    """A copy of the tiny checkpoint to damage."""
    return shutil.copytree(tiny_checkpoint, tmp_path / "ckpt")


def cli(capsys, monkeypatch, *args, stdin: bytes | None = None) -> tuple[int, str, str]:
    """Run the CLI in this process (no traceback may escape ``main``)."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def edit_json(path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


# 1. A checkpoint without its tokenizer files.

@pytest.mark.parametrize("name", ["tokenizer.json", "tokenizer_config.json"])
def test_checkpoint_without_tokenizer_files_is_refused(copy, capsys, monkeypatch, name):
    (copy / name).unlink()
    with pytest.raises(CheckpointError, match=f"has no {name}; pass a complete directory"):
        Tagger.load(copy)
    code, out, err = cli(capsys, monkeypatch, "score", "--format", "jsonl", "--checkpoint", str(copy),
                         stdin=json.dumps({"text": ARTICLE}).encode())
    assert code == 1 and out == "" and f"has no {name}" in err


def test_tokenizer_of_another_model_is_refused(copy):
    tokenizer = json.loads((copy / "tokenizer.json").read_text())
    tokenizer["model"]["vocab"] = dict(list(tokenizer["model"]["vocab"].items())[:5])  # a 5-token vocabulary
    (copy / "tokenizer.json").write_text(json.dumps(tokenizer))
    rehash(copy)
    with pytest.raises(CheckpointError, match=r"the tokenizer has \d+ tokens but the model's vocabulary has"):
        load_checkpoint(copy)


# 2. --overwrite deletes only a factattr run, and only once the data is valid.

def test_overwrite_keeps_the_run_when_the_corpus_is_bad(corpus_file, tmp_path):
    from factattr.training.train import train

    run = tmp_path / "run"
    train(load_config(REPO / "configs" / "tiny.yaml", tiny_overrides(corpus_file, run, **{"training.max_steps": 1,
                                                                                           "training.epochs": 1})),
          progress=False)
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "No sentences.", "sentences": "none"}\n')
    config = load_config(REPO / "configs" / "tiny.yaml", tiny_overrides(bad, run))
    with pytest.raises(CorpusError, match="'sentences' must be a list"):
        train(config, overwrite=True, progress=False)
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before


def test_overwrite_refuses_a_folder_that_is_not_a_run(corpus_file, tmp_path):
    from factattr.training.train import train

    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("precious")
    config = load_config(REPO / "configs" / "tiny.yaml", tiny_overrides(corpus_file, folder))
    with pytest.raises(ConfigError, match="is not a factattr run .* so --overwrite will not delete it"):
        train(config, overwrite=True, progress=False)
    assert (folder / "chapter1.tex").read_text() == "precious"


# 3. JSON Lines are split at "\n" only.

SEPARATORS = "a\u2028b\u2029c\u0085d\x1ce\x1df\x1eg"


def test_score_reads_json_lines_holding_unicode_separators(tiny_checkpoint, tmp_path, capsys, monkeypatch):
    articles = [{"id": "sep", "text": f"The army said it retook {SEPARATORS}. Jets struck Raqqa."},
                {"id": "plain", "text": ARTICLE}]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    code, out, err = cli(capsys, monkeypatch, "score", str(path), "--format", "jsonl", "--checkpoint", str(tiny_checkpoint))
    assert code == 0, err
    results = [json.loads(line) for line in out.split("\n") if line]
    assert [(r["id"], r["text"]) for r in results] == [(a["id"], a["text"]) for a in articles]
    # factattr reads back its own ensure_ascii=False output.
    again = tmp_path / "again.jsonl"
    again.write_text(out, encoding="utf-8")
    code, out2, err = cli(capsys, monkeypatch, "score", str(again), "--format", "jsonl", "--checkpoint", str(tiny_checkpoint))
    assert code == 0 and out2 == out, err


def test_agreement_pass_reads_unicode_separators(tmp_path):
    from factattr.data.agreement import read_pass

    record = {"id": f"x{SEPARATORS}", "i": 0, "first": {}, "second": {}, "final": {}}
    path = tmp_path / "pass.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert read_pass(path) == [record]


# 4. Values that gave silent wrong results.

@pytest.mark.parametrize("option", ["windows_per_pass", "threads"])
@pytest.mark.parametrize("value", [-1, 0, 1.5, True])
def test_load_refuses_bad_numbers(tiny_checkpoint, option, value):
    with pytest.raises(InputError, match=f"{option} must be a positive integer or None, got {value!r}"):
        Tagger.load(tiny_checkpoint, **{option: value})


def test_score_many_refuses_a_bad_group_size(tagger):
    with pytest.raises(InputError, match="articles_per_group must be a positive integer"):
        list(tagger.score_many([ARTICLE], articles_per_group=-1))


def test_label_order_that_does_not_match_the_training_config_is_refused(copy):
    # config.json records the schema; a train_config.yaml that also lists labels (an older or edited one)
    # must agree with it.
    model_config = json.loads((copy / "config.json").read_text())
    stored = yaml.safe_load((copy / "train_config.yaml").read_text())
    stored["labels"] = {head: [{"name": n, "description": n} for n in reversed(model_config["labels"][head])]
                        for head in model_config["head_order"]}
    (copy / "train_config.yaml").write_text(yaml.safe_dump(stored, sort_keys=False))
    with pytest.raises(CheckpointError, match="config.json lists the source labels .* but train_config.yaml has"):
        Tagger.load(copy)


@pytest.mark.parametrize("value", [0, -1.0, None, "1", float("inf")])
def test_bad_temperature_is_refused(copy, value):
    edit_json(copy / "config.json", lambda c: c["temperatures"].update(source=value))
    with pytest.raises(CheckpointError, match="temperatures.source must be a positive finite number"):
        Tagger.load(copy)


def test_flipped_bytes_in_the_weights_are_detected(copy):
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-100] ^= 0xFF  # inside a tensor: the file still parses
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="model.safetensors does not match its checksum"):
        Tagger.load(copy)


def test_checkpoint_without_checksums_loads_with_a_warning(copy, caplog):
    (copy / "checksums.json").unlink()
    tagger = Tagger.load(copy)
    assert "has no checksums.json" in caplog.text
    assert len(tagger.score(ARTICLE).sentences) == 2


# 5. Tracebacks that are now errors.

def test_truncated_weights(copy):
    data = (copy / "model.safetensors").read_bytes()
    (copy / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        load_checkpoint(copy)
    (copy / "checksums.json").unlink()  # an old checkpoint: safetensors finds the damage
    with pytest.raises(CheckpointError, match="unreadable weights .* damaged or truncated"):
        load_checkpoint(copy)


def test_label_count_mismatch(copy):
    from safetensors.torch import load_file, save_file

    weights = load_file(copy / "model.safetensors")
    weights["heads.source.weight"] = weights["heads.source.weight"][:-1]
    weights["heads.source.bias"] = weights["heads.source.bias"][:-1]
    save_file(weights, copy / "model.safetensors")
    rehash(copy)
    with pytest.raises(CheckpointError, match="the weights' source head has 5 labels, but config.json lists 6"):
        load_checkpoint(copy)


def test_missing_model_type(copy):
    edit_json(copy / "config.json", lambda c: c["encoder"].pop("model_type"))
    with pytest.raises(CheckpointError, match="'encoder' must be a Hugging Face config with a 'model_type'"):
        load_checkpoint(copy)


def test_garbled_config_and_tokenizer_files(copy):
    (copy / "tokenizer.json").write_text("{not json")
    (copy / "checksums.json").unlink()
    with pytest.raises(CheckpointError, match="the tokenizer files cannot be read"):
        load_checkpoint(copy)
    (copy / "config.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="config.json: not a factattr model config"):
        load_checkpoint(copy)


def test_lone_surrogate_is_an_input_error(tagger, tiny_checkpoint, capsys, monkeypatch):
    with pytest.raises(InputError, match=r"lone surrogate '\\ud800' at character 4"):
        tagger.score("The \ud800 army said so.")
    code, out, err = cli(capsys, monkeypatch, "score", "--format", "jsonl", "--checkpoint", str(tiny_checkpoint),
                         stdin=b'{"id": "a", "text": "The army said so."}\n{"id": "b", "text": "x \\ud800"}\n')
    assert code == 1 and "<stdin>:2 (id 'b'): text holds a lone surrogate" in err
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a"]  # the good article was not lost


def test_bad_yaml_override(capsys, monkeypatch, corpus_file):
    code, _, err = cli(capsys, monkeypatch, "train", str(REPO / "configs" / "tiny.yaml"), "--set", "training.lr=[1")
    assert code == 1 and "override 'training.lr=[1': the value '[1' is not valid YAML" in err


def test_cache_that_is_a_file(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FACTATTR_CACHE", str(tmp_path / "file"))
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="FACTATTR_CACHE: .*file is not a directory"):
        Tagger.load(tiny_checkpoint, backend="onnxruntime")
    code, _, err = cli(capsys, monkeypatch, "score", "--backend", "onnxruntime", "--checkpoint", str(tiny_checkpoint),
                       stdin=ARTICLE.encode())
    assert code == 1 and "is not a directory" in err


def test_truncated_onnx_cache_is_rebuilt(tiny_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("FACTATTR_CACHE", str(tmp_path / "cache"))
    first = Tagger.load(tiny_checkpoint, backend="onnxruntime")
    want = first.score(ARTICLE)
    path = first.model.onnx_path
    path.write_bytes(path.read_bytes()[:1000])
    again = Tagger.load(tiny_checkpoint, backend="onnxruntime")    # verified, found damaged, rebuilt
    assert again.score(ARTICLE) == want
    # Damage the hash check cannot see (the sidecar rewritten to match): ONNX Runtime refuses it, rebuilt.
    from factattr.model.ort_backend import _sha256

    path.write_bytes(b"not a model")
    path.with_name(path.name + ".sha256").write_text(_sha256(path))
    assert Tagger.load(tiny_checkpoint, backend="onnxruntime").score(ARTICLE) == want
    assert path.stat().st_size > 1000


def test_closed_pipe_is_quiet(tiny_checkpoint, tmp_path):
    lines = "".join(json.dumps({"id": str(i), "text": ARTICLE}) + "\n" for i in range(400))
    command = (f"{sys.executable} -m factattr.cli score --format jsonl --checkpoint {tiny_checkpoint} | head -1")
    result = subprocess.run(["bash", "-c", "set -o pipefail; " + command], input=lines, capture_output=True,
                            text=True)
    assert json.loads(result.stdout)["id"] == "0"
    assert result.stderr == "", result.stderr
    assert result.returncode == 141  # as a shell reports a tool stopped by a closed pipe


# 6. evaluate writes beside the checkpoint, not into its training-time output_dir.

def test_evaluate_writes_beside_a_moved_checkpoint(tiny_checkpoint, corpus_file, tmp_path):
    from pathlib import Path

    from factattr.eval.evaluate import run_evaluation

    moved = shutil.copytree(tiny_checkpoint, tmp_path / "shared" / "best")
    trained_in = Path(yaml.safe_load((moved / "train_config.yaml").read_text())["output_dir"])
    assert trained_in == tiny_checkpoint.parent
    report = run_evaluation(moved, data=[str(corpus_file)], baselines=False, progress=False)
    assert report.out_dir == tmp_path / "shared" / f"report-{corpus_file.stem}"
    assert (report.out_dir / "report.json").is_file()
    assert not (trained_in / f"report-{corpus_file.stem}").exists(), "wrote into the training-time output_dir"


# 7. score_many keeps every good result.

def assert_same_results(got, expected):
    """Same sentences and labels; probabilities equal up to fp32 rounding, which depends on what else
    shares the batch (padding length changes the reduction order)."""
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert [(s.text, s.start, s.end, s.source, s.claim_type) for s in a.sentences] == \
            [(s.text, s.start, s.end, s.source, s.claim_type) for s in b.sentences]
        for sa, sb in zip(a.sentences, b.sentences):
            for pa, pb in ((sa.source_probs, sb.source_probs), (sa.claim_type_probs, sb.claim_type_probs)):
                assert pa.keys() == pb.keys()
                assert all(abs(pa[k] - pb[k]) < 1e-5 for k in pa)


def test_score_many_yields_good_results_before_a_bad_item(tagger):
    texts = [ARTICLE, "Jets struck Raqqa.", ARTICLE, None, ARTICLE]
    got = []
    with pytest.raises(InputError, match=r"text #3 must be str, got NoneType"):
        for result in tagger.score_many(texts, articles_per_group=8):
            got.append(result)
    assert [r.text for r in got] == texts[:3]
    assert_same_results(got, [tagger.score(t) for t in texts[:3]])


def test_score_many_yields_good_results_before_a_failing_generator(tagger):
    def texts():
        yield ARTICLE
        yield "Jets struck Raqqa."
        raise OSError("network down")

    got = []
    with pytest.raises(OSError, match="network down"):
        for result in tagger.score_many(texts(), articles_per_group=8):
            got.append(result)
    assert [r.text for r in got] == [ARTICLE, "Jets struck Raqqa."]


def test_quantised_score_many_keeps_good_results_too(tiny_checkpoint):
    int8 = Tagger.load(tiny_checkpoint, quantize="dynamic_int8", threads=2)
    got = []
    with pytest.raises(InputError, match="text #2 is empty"):
        for result in int8.score_many([ARTICLE, ARTICLE, " ", ARTICLE]):
            got.append(result)
    assert len(got) == 2


def test_cli_names_file_line_and_id_of_a_bad_item(tiny_checkpoint, tmp_path, capsys, monkeypatch):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [{"id": "a", "text": ARTICLE}, {"id": "b", "text": ARTICLE},
                                                      {"id": "c", "text": 7}]) + "\n")
    code, out, err = cli(capsys, monkeypatch, "score", str(path), "--format", "jsonl", "--checkpoint", str(tiny_checkpoint))
    assert code == 1 and f"{path}:3 (id 'c'): text must be str, got int" in err
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a", "b"]
    path.write_text(json.dumps({"id": "a", "text": ARTICLE}) + "\n{oops\n")
    code, out, err = cli(capsys, monkeypatch, "score", str(path), "--format", "jsonl", "--checkpoint", str(tiny_checkpoint))
    assert code == 1 and f"{path}:2: not valid JSON" in err and len(out.splitlines()) == 1


# 8. Smaller ones.

def test_score_many_refuses_a_single_string(tagger):
    with pytest.raises(InputError, match="score_many takes an iterable of texts, got a single str"):
        tagger.score_many(ARTICLE)


@pytest.mark.parametrize("text", ["\u200b\u200b\u200b", "\u200b \ufeff\n\u2060", "\x00\x01", "\u200e\u200f"])
def test_text_without_a_visible_character_is_refused(tagger, text):
    with pytest.raises(InputError, match="has no visible character"):
        tagger.score(text)


def test_carriage_returns_break_sentences(tagger):
    text = "Army retakes Palmyra\rThe Syrian army said it retook Palmyra.\rJets struck Raqqa"
    assert [s.text for s in tagger.score(text).sentences] == [
        "Army retakes Palmyra", "The Syrian army said it retook Palmyra.", "Jets struck Raqqa"]
