"""The checkpoint's own int8 ONNX encoder: the default scoring path when training accepted it.

Training exports the encoder to ONNX, quantises it to dynamic int8 and writes it into ``best/`` as
``encoder-int8.onnx``, with its sha256 in ``checksums.json`` and, in ``metrics.json`` under
``fast_path``, the dev macro-F1 of fp32 and int8 side by side. The int8 path becomes the default only
when no head's dev macro-F1 drops by more than :data:`MAX_DROP` against fp32. Loading it needs no
export and no cache; checkpoints without it load as before (the config's backend).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from factattr.errors import CheckpointError

FAST_PATH_FILE = "encoder-int8.onnx"
FAST_BACKEND, FAST_QUANTIZE = "onnxruntime", "dynamic_int8"
MAX_DROP = 0.01  # one point of macro-F1
log = logging.getLogger("factattr.fastpath")


def accept(fp32: dict[str, float], int8: dict[str, float], max_drop: float = MAX_DROP) -> bool:
    """True when every macro-F1 of ``int8`` is at most ``max_drop`` below the same one of ``fp32``."""
    keys = [k for k in fp32 if k.endswith("macro_f1")]
    return bool(keys) and all(int8[k] >= fp32[k] - max_drop - 1e-12 for k in keys)


def fast_path_record(path: str | Path) -> dict | None:
    """The ``fast_path`` entry of the checkpoint's ``metrics.json`` (None if absent or unreadable)."""
    try:
        record = json.loads((Path(path) / "metrics.json").read_text(encoding="utf-8")).get("fast_path")
    except (OSError, ValueError, AttributeError):
        return None
    return record if isinstance(record, dict) else None


def artefact(path: str | Path) -> Path | None:
    """The checkpoint's int8 encoder, verified against ``checksums.json``; None if it has none.

    Raises:
        CheckpointError: the file is there but does not match its recorded checksum.
    """
    from .checkpoint import CHECKSUMS, file_sha256

    path = Path(path)
    file = path / FAST_PATH_FILE
    if not file.is_file():
        return None
    try:
        expected = json.loads((path / CHECKSUMS).read_text(encoding="utf-8")).get(FAST_PATH_FILE)
    except (OSError, ValueError, AttributeError):
        expected = None
    if not isinstance(expected, str):
        log.warning("%s has no checksum for %s: not using it (the config's backend is used instead)", path, FAST_PATH_FILE)
        return None
    if file_sha256(file) != expected:
        raise CheckpointError(f"{file} does not match its checksum in {CHECKSUMS}: the file was changed or damaged "
                              "after training wrote it; copy the checkpoint again, or delete the file to score "
                              "without it")
    return file


def choose_backend(path: str | Path, backend: str | None, quantize: str | None,
                   config_backend: str, config_quantize: str) -> tuple[str, str, Path | None]:
    """``(backend, quantize, int8 file or None)`` for ``Tagger.load``.

    With neither given, the checkpoint's int8 encoder when training accepted it, else the config's
    choice. The file is also used whenever int8 ONNX Runtime is asked for, so it is never exported again.
    """
    file = artefact(path)
    if backend is None and quantize is None and file is not None and (fast_path_record(path) or {}).get("default"):
        return FAST_BACKEND, FAST_QUANTIZE, file
    backend, quantize = backend or config_backend, quantize or config_quantize
    return backend, quantize, file if (backend, quantize) == (FAST_BACKEND, FAST_QUANTIZE) else None
