"""The scoring API: ``Tagger.load(dir)``, ``score(text)``, ``score_many(texts)``."""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import unicodedata

import torch

from factattr.config import BACKENDS, QUANTIZE_MODES
from factattr.data.segment import segment
from factattr.errors import InputError

from .checkpoint import load_checkpoint
from .fastpath import choose_backend
from .inference import predict_probs


@dataclass(frozen=True)
class SentenceResult:
    """One sentence: ``text == article[start:end]``, the two labels and every label's probability."""

    text: str
    start: int
    end: int
    source: str
    claim_type: str
    source_probs: dict[str, float]
    claim_type_probs: dict[str, float]

    @property
    def source_score(self) -> float:
        return self.source_probs[self.source]

    @property
    def claim_type_score(self) -> float:
        return self.claim_type_probs[self.claim_type]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ArticleResult:
    text: str
    sentences: tuple[SentenceResult, ...]

    def to_dict(self) -> dict:
        return {"text": self.text, "sentences": [s.to_dict() for s in self.sentences]}


def check_text(text: object, where: str = "text") -> str:
    """Refuse what is not usable article text, with a message that says what was received.

    Usable text is a ``str`` that is valid Unicode (no lone surrogates, which cannot be encoded or
    tokenised) and has at least one visible character: text of only white space, control or format
    characters (e.g. zero-width spaces) holds no sentence to label.
    """
    if isinstance(text, bytes):
        raise InputError(f"{where} must be str, got bytes; decode it first (e.g. data.decode('utf-8'))")
    if not isinstance(text, str):
        raise InputError(f"{where} must be str, got {type(text).__name__}")
    if not text.strip():
        raise InputError(f"{where} is empty or only white space; give the article's text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"{where} holds a lone surrogate {text[exc.start]!r} at character {exc.start}, which is not "
                         "valid Unicode; decode the article's bytes with errors='replace' or fix its source") from None
    if not any(unicodedata.category(c)[0] in "LMNPS" for c in text):
        raise InputError(f"{where} has no visible character (only white space, control or zero-width characters); "
                         "give the article's text")
    return text


def _positive(name: str, value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InputError(f"{name} must be a positive integer or None, got {value!r}")


class Tagger:
    """A loaded checkpoint that tags articles sentence by sentence."""

    def __init__(self, model, tokenizer, config, batch_size: int | None = None, backend: str = "torch",
                 quantize: str = "none", threads: int | None = None, workers: int = 1):
        self.model = model.eval()
        self.backend, self.quantize = backend, quantize   # as loaded (the config may say otherwise)
        self.threads = threads or config.inference.threads  # threads inside one forward pass
        self.workers = workers                              # forward passes run at once
        self.tokenizer = tokenizer
        self.config = config
        self.batch_size = batch_size or config.inference.batch_size
        self.source_labels = list(model.config.source_labels)
        self.claim_labels = list(model.config.claim_labels)

    @classmethod
    def load(cls, path: str | Path, *, backend: str | None = None, quantize: str | None = None,
             threads: int | None = None, batch_size: int | None = None) -> "Tagger":
        """Load a checkpoint directory.

        Args:
            path: a directory written by ``factattr train`` (e.g. ``runs/default/best``).
            backend: ``"torch"`` or ``"onnxruntime"`` (the encoder exported to ONNX: the checkpoint's own
                int8 file when it has one, else cached after the first load). With neither ``backend`` nor
                ``quantize`` given: the checkpoint's int8 ONNX encoder when training accepted it (dev
                macro-F1 within one point of fp32's, see ``factattr.model.fastpath``), else the checkpoint
                config's ``inference.backend``. ``backend="torch"`` scores in fp32.
            quantize: ``"none"`` or ``"dynamic_int8"``; defaults as ``backend`` does (the config's ``inference.quantize``).
            threads: CPU threads; defaults to the config's ``inference.threads``. With dynamic int8, this
                many articles are scored at once, one thread each.
            batch_size: windows per forward pass; defaults to the config's ``inference.batch_size``.

        Raises:
            CheckpointError: the directory is not a complete, intact checkpoint.
            InputError: an unknown backend or quantisation mode, or ``threads`` or ``batch_size`` not a
                positive integer.
        """
        _positive("threads", threads)
        _positive("batch_size", batch_size)
        model, tokenizer, config = load_checkpoint(path)
        # The checkpoint's own int8 encoder, when training wrote one (and, unless asked otherwise, accepted it).
        backend, mode, int8_file = choose_backend(path, backend, quantize, config.inference.backend,
                                                  config.inference.quantize)
        for name, value, allowed in (("backend", backend, BACKENDS), ("quantize", mode, QUANTIZE_MODES)):
            if value not in allowed:
                raise InputError(f"{name} must be {' or '.join(map(repr, allowed))}, got {value!r}")
        threads = threads or config.inference.threads
        # Dynamic int8 scores each article in passes of its own (see predict_probs). Those passes are
        # small, so rather than split each over every thread, score one article per thread at once: on 2
        # cores, 1.13x as fast in torch and about 1.3x in ONNX Runtime (paired passes, test split).
        workers = threads if mode == "dynamic_int8" else 1
        per_pass = threads // workers
        if backend == "onnxruntime":
            from .ort_backend import ort_model

            model = ort_model(model, mode, per_pass, prebuilt=int8_file)
        elif mode == "dynamic_int8":
            model = quantize_dynamic_int8(model)
        return cls(model, tokenizer, config, batch_size, backend, mode, per_pass, workers)

    def score(self, text: str) -> ArticleResult:
        """Segment one article and label every sentence. Raises InputError for text that is not usable
        (see :func:`check_text`)."""
        return next(self.score_many([text]))

    def score_many(self, texts: Iterable[str], batch_size: int | None = None) -> Iterator[ArticleResult]:
        """Score a stream of articles, ``batch_size`` articles per group, yielding results in order.

        A quantised tagger scores ``workers`` articles at once instead, each on its own.

        Nothing already read is lost: when an item is not usable text, every article before it is scored
        and yielded first, then :class:`InputError` names the item's position (``text #i``, from 0); when
        iterating ``texts`` itself raises, the articles read before are yielded first and the iterable's
        own exception is re-raised. Nothing after the failing item is read.

        Raises:
            InputError: ``texts`` is a single string (pass ``[text]``), ``batch_size`` is not a positive
                integer, or an item is not usable text.
        """
        if isinstance(texts, (str, bytes)):
            raise InputError(f"score_many takes an iterable of texts, got a single {type(texts).__name__}; "
                             "use score(text) or score_many([text])")
        _positive("batch_size", batch_size)
        return self._stream(texts, batch_size or self.batch_size)

    def _stream(self, texts: Iterable, size: int) -> Iterator[ArticleResult]:
        failure: list[BaseException] = []
        checked = _until_failure(texts, failure)
        if self.workers > 1:
            yield from self._each_article(checked, lambda text: self._score_group([text])[0])
        else:
            group: list[str] = []
            for text in checked:
                group.append(text)
                if len(group) == size:
                    yield from self._score_group(group)
                    group = []
            if group:
                yield from self._score_group(group)
        if failure:
            raise failure[0]

    def score_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> list[ArticleResult]:
        """Label given sentence spans (e.g. gold sentences) instead of the segmenter's."""
        if self.workers > 1:
            return list(self._each_article(zip(texts, spans), lambda pair: self._results([pair[0]], [pair[1]])[0]))
        return self._results(texts, spans)

    def _each_article(self, items: Iterable, score: Callable) -> Iterator[ArticleResult]:
        """``score(item)`` for each item, ``workers`` at a time, in order. The threads overlap one
        article's Python work (segmenting, tokenising) with another's forward passes, which release the
        GIL; a few articles ahead are in flight, so a stream is never read far ahead."""
        with ThreadPoolExecutor(self.workers) as pool:
            pending: deque = deque()
            for item in items:
                pending.append(pool.submit(score, item))
                if len(pending) > 2 * self.workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _score_group(self, texts: list[str]) -> list[ArticleResult]:
        return self._results(texts, [segment(text) for text in texts])

    def _results(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> list[ArticleResult]:
        torch.set_num_threads(self.threads)  # process-wide in torch, so set for each call of this tagger
        probs = predict_probs(self.model, self.tokenizer, texts, spans, self.batch_size,
                              by_article=self.quantize == "dynamic_int8")
        results = []
        for text, article_spans, (source_p, claim_p) in zip(texts, spans, probs):
            sentences = []
            for (start, end), sp, cp in zip(article_spans, source_p, claim_p):
                sentences.append(SentenceResult(
                    text=text[start:end], start=start, end=end,
                    source=self.source_labels[int(sp.argmax())], claim_type=self.claim_labels[int(cp.argmax())],
                    source_probs={label: float(p) for label, p in zip(self.source_labels, sp)},
                    claim_type_probs={label: float(p) for label, p in zip(self.claim_labels, cp)}))
            results.append(ArticleResult(text=text, sentences=tuple(sentences)))
        return results


def _until_failure(texts: Iterable, failure: list) -> Iterator[str]:
    """The checked items of ``texts`` up to the first bad one (or the iterable's own error), which is
    appended to ``failure`` for the caller to raise once the items before it are scored."""
    iterator = iter(texts)
    position = 0
    while True:
        try:
            text = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # the caller's generator failed: keep what it gave so far
            failure.append(exc)
            return
        try:
            yield check_text(text, f"text #{position}")
        except InputError as exc:
            failure.append(exc)
            return
        position += 1


def quantize_dynamic_int8(model):
    """int8 weights for every linear layer, activations quantised on the fly (CPU inference only).

    Weights are quantised per output channel: on the test split this keeps both heads' macro-F1 within
    one point of fp32, where per-tensor scales lost two points on ``source``.
    """
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch announces a future move of this API; the path works as is
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*", category=DeprecationWarning)
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig})
