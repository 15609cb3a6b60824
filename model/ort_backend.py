"""The encoder exported to ONNX and run by ONNX Runtime: with int8, the fastest CPU scoring path.

Only the encoder moves to ONNX Runtime; pooling and the two heads stay the same torch code as training,
so windows, pooling and temperatures cannot drift apart between backends. In fp32 it runs about as fast
as torch on 2 cores; its dynamic int8 kernels are faster than torch's (benchmarks/speed.py).

Exports are cached, keyed by the checkpoint weights' hash, under ``$FACTATTR_CACHE`` (default
``~/.cache/factattr``), so checkpoint directories are never written to and a first load pays the export
(a few seconds) once. Cache files are written atomically.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

import torch

from .modeling import ClaimTaggerModel, TaggerOutput, build_encoder

# Part of every cache key: bump it when the export recipe changes, so stale files are not reused.
EXPORT_VERSION = 1
OPSET = 17


def cache_root() -> Path:
    return Path(os.environ.get("FACTATTR_CACHE") or Path.home() / ".cache" / "factattr")


def weights_key(checkpoint: str | Path) -> str:
    digest = hashlib.sha256()
    with open(Path(checkpoint) / "model.safetensors", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"export-v{EXPORT_VERSION}-opset{OPSET}-torch{torch.__version__}".encode())
    return digest.hexdigest()[:20]


def _atomic_file(target: Path, write) -> Path:
    """Call ``write(tmp_path)`` and move the result into place, so a crash leaves no partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep a shared cache private to one user
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


class _Encoder(torch.nn.Module):
    def __init__(self, encoder: torch.nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def export_encoder(model: ClaimTaggerModel, path: Path) -> Path:
    """Export the encoder (input_ids, attention_mask -> last hidden state) with dynamic batch and length."""
    # Eager attention exports as plain MatMul/Softmax, which ONNX Runtime fuses into one Attention
    # kernel; torch's SDPA exports as a graph it cannot fuse.
    encoder = build_encoder(copy.deepcopy(model.encoder.config), attn_implementation="eager")
    encoder.load_state_dict(model.encoder.state_dict())
    module = _Encoder(encoder).eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 8:] = 0

    def write(tmp: Path) -> None:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer notes about Python control flow in the HF code
            torch.onnx.export(module, (ids, mask), str(tmp), input_names=["input_ids", "attention_mask"],
                              output_names=["hidden"], opset_version=OPSET, dynamo=False,
                              dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"},
                                            "hidden": {0: "batch", 1: "tokens"}})

    return _atomic_file(path, write)


@contextlib.contextmanager
def _quiet_root_logger():
    """onnxruntime's quantizer logs advice through the root logger; keep it off the user's console."""
    root = logging.getLogger()
    handler, level = logging.NullHandler(), root.level
    root.addHandler(handler)
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def quantize_encoder(fp32_path: Path, path: Path) -> Path:
    """Dynamic int8: weights quantised per output channel ahead of time, activations on the fly."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def write(tmp: Path) -> None:
        with _quiet_root_logger():
            quantize_dynamic(str(fp32_path), str(tmp), weight_type=QuantType.QInt8, per_channel=True)

    return _atomic_file(path, write)


def encoder_file(model: ClaimTaggerModel, checkpoint: str | Path, quantize: str) -> Path:
    """The cached ONNX encoder for this checkpoint (exported on first use)."""
    folder = cache_root() / "onnx" / weights_key(checkpoint)
    fp32 = folder / "encoder-fp32.onnx"
    if not fp32.exists():
        export_encoder(model, fp32)
    if quantize == "none":
        return fp32
    int8 = folder / "encoder-int8.onnx"
    if not int8.exists():
        quantize_encoder(fp32, int8)
    return int8


class OrtClaimTagger:
    """Drop-in for ``ClaimTaggerModel`` at inference: the encoder runs in ONNX Runtime, the heads in torch."""

    def __init__(self, model: ClaimTaggerModel, onnx_path: str | Path, threads: int,
                 disabled_optimizers: Sequence[str] = ()):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"],
                                            disabled_optimizers=list(disabled_optimizers))
        self.onnx_path = Path(onnx_path)
        self.config = model.config
        self.heads = model.eval()
        del self.heads.encoder  # its weights now live in the ONNX session; keep memory to one copy

    def eval(self) -> "OrtClaimTagger":
        return self

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_target: torch.Tensor,
                 num_targets: int) -> TaggerOutput:
        hidden = self.session.run(["hidden"], {"input_ids": input_ids.numpy(),
                                               "attention_mask": attention_mask.numpy()})[0]
        return self.heads.classify(torch.from_numpy(hidden), token_target, num_targets)


# In the int8 graph, ONNX Runtime's fused residual-add + LayerNorm kernel is slower than the separate Add
# and LayerNormalization it replaces: disabling that fusion scored the test split 8-10% faster (paired
# passes, ONNX Runtime 1.32, 2 threads); in fp32 it made no difference, so fp32 keeps every fusion.
INT8_DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)


def ort_model(model: ClaimTaggerModel, checkpoint: str | Path, quantize: str, threads: int) -> OrtClaimTagger:
    """The ONNX Runtime tagger; ``threads`` per call (the session is thread-safe: callers may run several)."""
    disabled = INT8_DISABLED_OPTIMIZERS if quantize == "dynamic_int8" else ()
    return OrtClaimTagger(model, encoder_file(model, checkpoint, quantize), threads, disabled)
