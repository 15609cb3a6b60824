"""The encoder exported to ONNX and run by ONNX Runtime: with int8, the fastest CPU scoring path.

Only the encoder moves to ONNX Runtime; pooling and the heads stay the same torch code as training, so
windows, pooling and temperatures cannot drift apart between backends (speeds: README, benchmarks/speed.py).

Exports are cached, keyed by the checkpoint weights' hash, under ``$FACTATTR_CACHE`` (default
``~/.cache/factattr``), so checkpoint directories are never written to and a first load pays the export
once. Cache files are written atomically, each with a ``.sha256`` beside it; a cached
file that does not match it (truncated, damaged) or that ONNX Runtime cannot open is rebuilt.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

import torch

from factattr.errors import CheckpointError, ConfigError

from .modeling import ClaimTaggerModel, TaggerOutput, build_encoder

log = logging.getLogger("factattr.onnx")

# Part of every cache key: bump it when the export recipe changes, so stale files are not reused.
EXPORT_VERSION = 1
OPSET = 17


def cache_root() -> Path:
    """``$FACTATTR_CACHE`` (default ``~/.cache/factattr``), created if absent.

    Raises:
        ConfigError: the path is a file, or cannot be created.
    """
    root = Path(os.environ.get("FACTATTR_CACHE") or Path.home() / ".cache" / "factattr")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(f"FACTATTR_CACHE: {root} is not a directory; point FACTATTR_CACHE at a directory "
                          "(or unset it to use ~/.cache/factattr)") from None
    except OSError as exc:
        raise ConfigError(f"FACTATTR_CACHE: cannot create {root} ({exc.strerror}); point FACTATTR_CACHE at a "
                          "writable directory") from None
    return root


def weights_key(weights_sha256: str) -> str:
    """The cache key of a checkpoint's export: its weights' hash and the export recipe."""
    digest = hashlib.sha256(weights_sha256.encode())
    digest.update(f"export-v{EXPORT_VERSION}-opset{OPSET}-torch{torch.__version__}".encode())
    return digest.hexdigest()[:20]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _intact(path: Path) -> bool:
    """True if a cached file exists and matches the hash recorded when it was written."""
    sidecar = path.with_name(path.name + ".sha256")
    try:
        return path.is_file() and sidecar.read_text(encoding="ascii").strip() == _sha256(path)
    except (OSError, UnicodeDecodeError):
        return False


def _atomic_file(target: Path, write) -> Path:
    """Call ``write(tmp_path)`` and move the result into place, so a crash leaves no partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    sidecar = target.with_name(target.name + ".sha256")
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep a shared cache private to one user
        digest = _sha256(Path(tmp))
        sidecar.unlink(missing_ok=True)  # a file without its hash counts as damaged until both are in place
        os.replace(tmp, target)
        sidecar.write_text(digest + "\n", encoding="ascii")
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


def fp32_nodes(fp32_path: Path) -> list[str]:
    """The matrix multiplies left in fp32: the first layer's feed-forward output projection. Its input (1,536
    GELU outputs, quantised on the fly with one scale per tensor) has the widest range, and in the first
    layer the rounding carries through every later one. Chosen on dev: of the six layers' projections, this
    one brings the int8 probabilities closest to fp32's, and keeping more of them in fp32 costs more speed
    than the default path can spare (``benchmarks/quantization.py``, ``make benchmark``)."""
    return ffn_output_nodes(fp32_path)[:1]


def ffn_output_nodes(fp32_path: Path) -> list[str]:
    """The exported encoder's feed-forward output projections (MatMul nodes), first layer first."""
    import onnx

    graph = onnx.load(str(fp32_path), load_external_data=False).graph
    found = {int(m.group(1)): node.name for node in graph.node
             if node.op_type == "MatMul" and (m := _FFN_OUTPUT.search(node.name))}
    return [found[layer] for layer in sorted(found)]


_FFN_OUTPUT = re.compile(r"layer\.(\d+)/output/dense/MatMul$")
INT8_RECIPE = "ffn0-fp32"


def quantize_encoder(fp32_path: Path, path: Path, keep_fp32: Sequence[str] | None = None) -> Path:
    """Dynamic int8: weights quantised per output channel ahead of time, activations on the fly, but for
    ``keep_fp32`` (default: :func:`fp32_nodes`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = fp32_nodes(fp32_path) if keep_fp32 is None else list(keep_fp32)

    def write(tmp: Path) -> None:
        with _quiet_root_logger():
            quantize_dynamic(str(fp32_path), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                             nodes_to_exclude=keep)

    return _atomic_file(path, write)


def encoder_file(model: ClaimTaggerModel, quantize: str, rebuild: bool = False) -> Path:
    """The cached ONNX encoder for this model's weights (exported on first use, and again when the cached
    file is damaged or ``rebuild`` is set)."""
    folder = cache_root() / "onnx" / weights_key(model.weights_sha256)
    fp32 = folder / "encoder-fp32.onnx"
    if rebuild or not _intact(fp32):
        if fp32.exists():
            log.warning("cached ONNX export %s is damaged: exporting it again", fp32)
        export_encoder(model, fp32)
    if quantize == "none":
        return fp32
    int8 = folder / f"encoder-int8-{INT8_RECIPE}.onnx"     # a new recipe never reuses an older cached file
    if rebuild or not _intact(int8):
        if int8.exists():
            log.warning("cached ONNX export %s is damaged: quantising it again", int8)
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
# and LayerNormalization it replaces, so int8 runs without that fusion (measured with benchmarks/speed.py);
# in fp32 it made no difference, so fp32 keeps every fusion.
INT8_DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)


def ort_model(model: ClaimTaggerModel, quantize: str, threads: int, prebuilt: Path | None = None) -> OrtClaimTagger:
    """The ONNX Runtime tagger; ``threads`` per call (the session is thread-safe: callers may run several).

    ``model`` comes from :func:`~factattr.model.checkpoint.load_checkpoint`, whose weights' hash keys the cache.
    A cached file ONNX Runtime cannot open is rebuilt once, so a damaged cache never sticks. ``prebuilt``:
    the checkpoint's own exported encoder (verified by the caller), used as is, without the cache.
    """
    disabled = INT8_DISABLED_OPTIMIZERS if quantize == "dynamic_int8" else ()
    if prebuilt is not None:
        try:
            return OrtClaimTagger(model, prebuilt, threads, disabled)
        except Exception as exc:  # onnxruntime raises its own types for unreadable graphs
            raise CheckpointError(f"{prebuilt}: ONNX Runtime cannot load it ({exc}); delete the file to score "
                                  "without it, or copy the checkpoint again") from None
    try:
        path = encoder_file(model, quantize)
        try:
            return OrtClaimTagger(model, path, threads, disabled)
        except Exception as exc:  # onnxruntime raises its own types for unreadable graphs
            log.warning("cached ONNX export %s unusable (%s): exporting it again", path, exc)
        return OrtClaimTagger(model, encoder_file(model, quantize, rebuild=True), threads, disabled)
    except OSError as exc:
        raise CheckpointError(f"cannot write the ONNX export under {cache_root()} ({exc}); point FACTATTR_CACHE at a "
                              "writable directory") from None
