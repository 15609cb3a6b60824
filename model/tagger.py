"""The scoring API: ``Tagger.load(dir)``, ``score(text)``, ``score_many(texts)``."""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import unicodedata

import numpy as np
import torch

from factattr.config import BACKENDS, QUANTIZE_MODES
from factattr.data.segment import segment
from factattr.errors import InputError

from .checkpoint import load_checkpoint
from .fastpath import choose_backend
from .inference import Prediction, predict
from .speakers import Mention, links_and_entities


# Articles per group that score_many scores together by default (the benchmark measures this setting).
ARTICLES_PER_GROUP = 32


@dataclass(frozen=True)
class SentenceResult:
    """One sentence: ``text == article[start:end]``, its label and every label's probability per head.

    Each head is also an attribute: ``s.source`` is ``s.labels["source"]``, ``s.source_probs`` is
    ``s.probs["source"]`` and ``s.source_score`` the probability of ``s.source`` (for any schema's heads).
    """

    text: str
    start: int
    end: int
    labels: dict[str, str]                  # head -> predicted label, heads in schema order
    probs: dict[str, dict[str, float]]      # head -> {label: probability}
    # Models with the span head: {"text", "start", "end", "score"} in article offsets; a speaker also has
    # "refers_to" (for a pronoun or role, the span that names it) and "entity" (the same number for every
    # mention of one speaker in the article). None for narration or a sentence without a mention.
    speaker: dict | None = None
    cue: dict | None = None

    def __getattr__(self, name: str):
        heads = self.__dict__.get("labels") or {}
        if name in heads:
            return heads[name]
        for suffix, value in (("_probs", lambda h: self.probs[h]), ("_score", self.score)):
            if name.endswith(suffix) and name[: -len(suffix)] in heads:
                return value(name[: -len(suffix)])
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}; its heads are {list(heads)}")

    def score(self, head: str) -> float:
        """The probability of the predicted label of ``head``."""
        return self.probs[head][self.labels[head]]

    def to_dict(self) -> dict:
        """``text``, ``start``, ``end``, then ``<head>`` for each head, then ``<head>_probs`` for each head,
        then ``speaker`` and ``cue``."""
        return {"text": self.text, "start": self.start, "end": self.end, **self.labels,
                **{f"{head}_probs": dict(p) for head, p in self.probs.items()},
                "speaker": self.speaker, "cue": self.cue}


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

    def __init__(self, model, tokenizer, config, windows_per_pass: int | None = None, backend: str = "torch",
                 quantize: str = "none", threads: int | None = None, workers: int = 1):
        self.model = model.eval()
        self.backend, self.quantize = backend, quantize   # as loaded (the config may say otherwise)
        self.threads = threads or config.inference.threads  # threads inside one forward pass
        self.workers = workers                              # forward passes run at once
        self.tokenizer = tokenizer
        self.config = config
        self.windows_per_pass = windows_per_pass or config.inference.windows_per_pass
        self.labels = {head: list(names) for head, names in model.config.labels.items()}

    @classmethod
    def load(cls, path: str | Path, *, backend: str | None = None, quantize: str | None = None,
             threads: int | None = None, windows_per_pass: int | None = None) -> "Tagger":
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
            windows_per_pass: windows per forward pass; defaults to the config's ``inference.windows_per_pass``.

        Raises:
            CheckpointError: the directory is not a complete, intact checkpoint.
            InputError: an unknown backend or quantisation mode, or ``threads`` or ``windows_per_pass`` not a
                positive integer.
        """
        _positive("threads", threads)
        _positive("windows_per_pass", windows_per_pass)
        model, tokenizer, config = load_checkpoint(path)
        # The checkpoint's own int8 encoder, when training wrote one (and, unless asked otherwise, accepted it).
        backend, mode, int8_file = choose_backend(path, backend, quantize, config.inference.backend,
                                                  config.inference.quantize)
        for name, value, allowed in (("backend", backend, BACKENDS), ("quantize", mode, QUANTIZE_MODES)):
            if value not in allowed:
                raise InputError(f"{name} must be {' or '.join(map(repr, allowed))}, got {value!r}")
        threads = threads or config.inference.threads
        # Dynamic int8 scores each article in passes of its own (see predict). Those passes are
        # small, so rather than split each over every thread, one article per thread is scored at once,
        # which was faster in both backends (README: speed).
        workers = threads if mode == "dynamic_int8" else 1
        per_pass = threads // workers
        if backend == "onnxruntime":
            from .ort_backend import ort_model

            model = ort_model(model, mode, per_pass, prebuilt=int8_file)
        elif mode == "dynamic_int8":
            model = quantize_dynamic_int8(model)
        return cls(model, tokenizer, config, windows_per_pass, backend, mode, per_pass, workers)

    def score(self, text: str) -> ArticleResult:
        """Segment one article and label every sentence. Raises InputError for text that is not usable
        (see :func:`check_text`)."""
        return next(self.score_many([text]))

    def score_many(self, texts: Iterable[str], articles_per_group: int | None = None) -> Iterator[ArticleResult]:
        """Score a stream of articles, ``articles_per_group`` at a time (default :data:`ARTICLES_PER_GROUP`),
        yielding results in order.

        A quantised tagger scores ``workers`` articles at once instead, each on its own.

        Nothing already read is lost: when an item is not usable text, every article before it is scored
        and yielded first, then :class:`InputError` names the item's position (``text #i``, from 0); when
        iterating ``texts`` itself raises, the articles read before are yielded first and the iterable's
        own exception is re-raised. Nothing after the failing item is read.

        Raises:
            InputError: ``texts`` is a single string (pass ``[text]``), ``articles_per_group`` is not a
                positive integer, or an item is not usable text.
        """
        if isinstance(texts, (str, bytes)):
            raise InputError(f"score_many takes an iterable of texts, got a single {type(texts).__name__}; "
                             "use score(text) or score_many([text])")
        _positive("articles_per_group", articles_per_group)
        return self._stream(texts, articles_per_group or ARTICLES_PER_GROUP)

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
        predictions = predict(self.model, self.tokenizer, texts, spans, self.windows_per_pass,
                              by_article=self.quantize == "dynamic_int8")
        return [self._article(text, article_spans, prediction)
                for text, article_spans, prediction in zip(texts, spans, predictions)]

    def _article(self, text: str, spans: Sequence[tuple[int, int]], prediction: Prediction) -> ArticleResult:
        sentences = [self._sentence(text, span, {h: p[i] for h, p in prediction.probs.items()})
                     for i, span in enumerate(spans)]
        if prediction.spans is not None:
            narration = self._narration()
            sentences = with_speakers(text, sentences, prediction.spans, narration)
            if self.config.inference.speaker_sources and narration is not None:
                sentences = pool_by_speaker(sentences, *narration)
        return ArticleResult(text=text, sentences=tuple(sentences))

    def _narration(self) -> tuple[str, str] | None:
        """(head, label) of the reporter's own narration, which has no speaker, when the config names it."""
        head, label = self.config.roles.attribution, self.config.roles.narration
        return (head, label) if head in self.labels and label in self.labels.get(head, ()) else None

    def _sentence(self, text: str, span: tuple[int, int], probs: dict) -> SentenceResult:
        start, end = span
        return SentenceResult(
            text=text[start:end], start=start, end=end,
            labels={head: self.labels[head][int(p.argmax())] for head, p in probs.items()},
            probs={head: {label: float(x) for label, x in zip(self.labels[head], p)} for head, p in probs.items()})


def with_speakers(text: str, sentences: list[SentenceResult], spans: list[dict],
                  narration: tuple[str, str] | None) -> list[SentenceResult]:
    """The sentences with their decoded speaker and cue in article offsets, pronoun and role speakers
    linked to the span that names them (:mod:`factattr.model.speakers`). A sentence labelled as narration
    keeps neither."""
    placed = []
    for sentence, found in zip(sentences, spans):
        if narration is not None and sentence.labels[narration[0]] == narration[1]:
            found = {}
        marks = {field: _span(text, sentence.start, found.get(field)) for field in ("speaker", "cue")}
        if marks["speaker"] is None:
            marks["cue"] = None            # a cue without its speaker says nothing (notes 21.5)
        placed.append(marks)
    mentions = [Mention(m["speaker"]["start"], m["speaker"]["end"], m["speaker"]["text"]) for m in placed if m["speaker"]]
    links, ids = map(iter, links_and_entities(mentions, text))
    for marks in placed:
        if marks["speaker"] is not None:
            named = next(links)
            marks["speaker"]["refers_to"] = ({"text": named.text, "start": named.start, "end": named.end}
                                             if named is not None else None)
            marks["speaker"]["entity"] = next(ids)
    return [replace(sentence, **marks) for sentence, marks in zip(sentences, placed)]


def pool_by_speaker(sentences: list[SentenceResult], head: str, narration: str) -> list[SentenceResult]:
    """Decide ``head`` once per speaker: the sentences whose speakers resolve to one naming span share the
    normalised geometric mean of their ``head`` probabilities (narration left out), so a bare "X said"
    takes the side that X's described mention made clear."""
    groups: dict[int, list[int]] = {}
    for i, s in enumerate(sentences):
        if s.speaker is not None and s.labels[head] != narration:
            groups.setdefault(s.speaker["entity"], []).append(i)
    names = list(sentences[0].probs[head]) if sentences else []
    out = list(sentences)
    for members in (m for m in groups.values() if len(m) > 1):
        logs = np.log(np.array([[sentences[i].probs[head][n] for n in names] for i in members]) + 1e-9).mean(0)
        logs[names.index(narration)] = -np.inf
        pooled = np.exp(logs - logs.max())
        pooled /= pooled.sum()
        probs = {n: float(p) for n, p in zip(names, pooled)}
        for i in members:
            out[i] = replace(out[i], labels={**out[i].labels, head: names[int(pooled.argmax())]},
                             probs={**out[i].probs, head: probs})
    return out


def _span(text: str, offset: int, found: tuple[int, int, float] | None) -> dict | None:
    if found is None:
        return None
    start, end = _whole_words(text, offset + found[0], offset + found[1])
    return {"text": text[start:end], "start": start, "end": end, "score": round(found[2], 4)}


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """``start:end`` widened to whole words: a run of tagged tokens may begin or end inside a word ("ur" of
    "Nour"), and a speaker cut there is no name."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end


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

    Weights are quantised per output channel, which keeps macro-F1 closer to fp32's than per-tensor
    scales (README: speed).
    """
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch announces a future move of this API; the path works as is
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*", category=DeprecationWarning)
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig})
