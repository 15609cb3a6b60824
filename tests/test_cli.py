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
