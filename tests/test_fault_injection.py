"""Fault injection: training runs killed with SIGKILL at chosen points (mid-epoch, while writing ``last/``,
between its two renames, while copying to ``best/``), then resumed with ``--resume``. At every moment the
checkpoints on disk are complete, and the resumed run ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from factattr.model.checkpoint import file_sha256, load_checkpoint

from .conftest import REPO, tiny_overrides

# Runs in a child process: patches one place to SIGKILL the process the n-th time it is reached, then
# trains through the CLI, as a user would.
DRIVER = textwrap.dedent("""
    import os, signal, sys, types
    import factattr.model.checkpoint as checkpoint
    import factattr.training.train as train
    point, n, mark = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    calls = [0]

    def reached():
        calls[0] += 1
        if calls[0] == n:
            open(mark, "w").write(point)
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(function, before=True):
        def wrapped(*args, **kwargs):
            if before:
                reached()
            result = function(*args, **kwargs)
            if not before:
                reached()
            return result
        return wrapped

    if point == "step":          # inside an epoch, before the n-th optimisation step
        train.collate = wrap(train.collate)
    elif point == "write":       # writing last/: weights and tokenizer written, model card not yet
        checkpoint.model_card = wrap(checkpoint.model_card)
    elif point == "swap":        # the old last/ moved aside, the new one not yet in place
        real_replace = os.replace
        def replace(src, dst):
            real_replace(src, dst)
            if os.path.basename(dst).startswith(".last.old-"):
                reached()
        checkpoint.os = types.SimpleNamespace(**{**vars(os), "replace": replace})
    elif point == "best":        # copying last/ to best/: every file copied, the directory not yet renamed
        train._copy_checkpoint = wrap(train._copy_checkpoint, before=False)
    from factattr.cli import main
    sys.exit(main(sys.argv[4:]))
""")

EPOCHS = 3


def train_args(corpus: Path, out: Path, *extra: str) -> list[str]:
    overrides = tiny_overrides(corpus, out, **{"training.epochs": EPOCHS, "training.patience": EPOCHS})
    return ["train", str(REPO / "configs" / "tiny.yaml"), "--no-progress", *extra,
            *[item for pair in (("--set", o) for o in overrides) for item in pair]]


def run(driver: Path, point: str, n: int, mark: Path, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(driver), point, str(n), str(mark), *args],
                          capture_output=True, text=True, timeout=600)


def outcome(out: Path) -> dict:
    """What a finished run leaves: its epoch records (timing removed) and the best weights' hash."""
    epochs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().split("\n") if line]
    for record in epochs:
        record.pop("elapsed_s", None)
    return {"log": epochs, "best": file_sha256(out / "best" / "model.safetensors"),
            "last": file_sha256(out / "last" / "model.safetensors")}


def assert_complete_or_absent(out: Path) -> None:
    for name in ("last", "best"):
        if (out / name).exists():
            load_checkpoint(out / name)  # verifies every file against checksums.json


@pytest.fixture(scope="module")
def reference(corpus_file, tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    driver = root / "driver.py"
    driver.write_text(DRIVER)
    out = root / "uninterrupted"
    done = run(driver, "none", 0, root / "mark", train_args(corpus_file, out))
    assert done.returncode == 0, done.stderr
    steps = [r["step"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r["type"] == "epoch"]
    return driver, outcome(out), steps


# One random step inside each later epoch (seeded), and each write of a checkpoint directory.
@pytest.mark.parametrize("point,which", [("step", 2), ("step", 3), ("write", 2), ("swap", 1), ("best", 1)])
def test_killed_run_resumes_to_the_uninterrupted_result(reference, corpus_file, tmp_path, point, which):
    driver, want, epoch_steps = reference
    if point == "step":
        first, last = epoch_steps[which - 2] + 1, epoch_steps[which - 1]
        n = random.Random(which).randint(first, last)
    else:
        n = which
    out, mark = tmp_path / "run", tmp_path / "mark"
    killed = run(driver, point, n, mark, train_args(corpus_file, out))
    assert killed.returncode == -signal.SIGKILL and mark.read_text() == point, killed.stderr
    assert_complete_or_absent(out)

    resumed = run(driver, "none", 0, mark, train_args(corpus_file, out, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert_complete_or_absent(out)
    assert outcome(out) == want
    assert not list(out.glob(".*.tmp-*")) and not list(out.glob(".*.old-*")), "leftovers of the killed write"
