import json
import subprocess
import sys

from .conftest import REPO


def run(*args):
    return subprocess.run([sys.executable, "-m", "factattr.cli", *args], capture_output=True, text=True, cwd=REPO)


def test_help_lists_subcommands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "score", "stats", "validate"):
        assert command in result.stdout


def test_stats_prints_splits_and_labels(corpus_file):
    result = run("stats", str(corpus_file))
    assert result.returncode == 0, result.stderr
    assert "24 articles, 144 sentences" in result.stdout
    assert "| source: anonymous_officer |" in result.stdout and "| train | dev | test | total |" in result.stdout


def test_validate_points_at_bad_lines(tmp_path, corpus_file):
    bad = tmp_path / "bad.jsonl"
    lines = corpus_file.read_text().splitlines()[:2]
    article = json.loads(lines[1])
    article["sentences"][0]["source"] = "martians"
    bad.write_text(lines[0] + "\n" + json.dumps(article) + "\n")
    result = run("validate", str(bad))
    assert result.returncode == 1
    assert f"{bad}:2: article 'synthetic-001': sentence 0: unknown source label 'martians'" in result.stdout


def test_train_reports_config_errors_readably(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(f"extends: {REPO / 'configs' / 'tiny.yaml'}\ntraining: {{epochz: 3}}\n")
    result = run("train", str(config))
    assert result.returncode == 1
    assert "c.yaml: invalid config" in result.stderr and "training.epochz: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_prints_best_checkpoint_last(tmp_path, corpus_file):
    result = run("train", str(REPO / "configs" / "tiny.yaml"), "--no-progress", "--set", f"data.corpus={corpus_file}",
                 "--set", f"output_dir={tmp_path / 'run'}", "--set", "training.max_steps=2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "run" / "best")


def test_evaluate_compares_checkpoints(tiny_checkpoint, corpus_file, tmp_path):
    result = run("evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(corpus_file), "--out",
                 str(tmp_path / "r"), "--compare", str(tiny_checkpoint), "--no-baselines", "--no-progress")
    assert result.returncode == 0, result.stderr
    name = f"{tiny_checkpoint.parent.name}/{tiny_checkpoint.name}"
    assert f"model minus {name}: source +0.000" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "r")


def test_evaluate_runs_on_the_backend_asked_for(tiny_checkpoint, corpus_file, tmp_path):
    import json

    for backend, expected in (("torch", "torch, quantize none"), (None, None)):
        flags = ["--backend", backend] if backend else []
        result = run("evaluate", "--checkpoint", str(tiny_checkpoint), "--data", str(corpus_file), "--out",
                     str(tmp_path / f"r-{backend}"), "--no-baselines", "--no-progress", *flags)
        assert result.returncode == 0, result.stderr
        used = json.loads((tmp_path / f"r-{backend}" / "report.json").read_text())["backend"]
        if expected:
            assert used == expected
        else:   # the default path: the checkpoint's int8 encoder when training accepted it
            accepted = json.loads((tiny_checkpoint / "metrics.json").read_text())["fast_path"]["default"]
            assert used == ("onnxruntime, quantize dynamic_int8" if accepted else "torch, quantize none")


def test_stats_of_the_config_shows_each_origin(tmp_path, corpus_file):
    from .test_data_sources import two_source_config

    two_source_config(tmp_path, corpus_file)
    result = run("stats", "--config", str(tmp_path / "two.yaml"))
    assert result.returncode == 0, result.stderr
    assert "Data: written: 24 articles" in result.stdout and "real: 16 articles" in result.stdout
    assert "| train-written | train-real | dev-written | dev-real | test-written | test-real | total |" in result.stdout


def test_overlap_lists_pairs_and_fails(tmp_path, corpus_file):
    result = run("overlap", str(corpus_file), "--against", str(corpus_file))
    assert result.returncode == 1
    assert "synthetic-000\t2016-01-01\tsynthetic-000\t2016-01-01\t1.000" in result.stdout
    assert "pair(s) within 7 days" in result.stderr


def test_import_fakes_reports_a_missing_file(tmp_path):
    result = run("import-fakes", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "t.jsonl"))
    assert result.returncode == 1 and "absent.csv: file not found" in result.stderr
    assert "Traceback" not in result.stderr
