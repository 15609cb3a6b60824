"""The speaker and cue of each sentence as token tags (BIO) on the encoder's tokens, and back to characters.

Training turns an annotated sentence's speaker and cue spans (``ANNOTATION_NOTES.md`` section 21) into one
tag per token; scoring picks, for each of the two, the likeliest run of tokens tagged ``B`` then ``I`` and
returns its character offsets. A sentence annotated without a speaker (narration, a continued quotation)
is all ``O``; a sentence from data with no span annotation is left out of the span loss.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch

FIELDS = ("speaker", "cue")
TAGS = ("O", "B-speaker", "I-speaker", "B-cue", "I-cue")
IGNORE = -100               # cross-entropy's ignore_index: tokens with no span annotation

Offsets = Sequence[tuple[int, int]]   # each token's character range, relative to its sentence


def sentence_tags(offsets: Offsets, spans: Mapping[str, tuple[int, int] | None]) -> list[int]:
    """One tag id per token: ``B-x`` on the first token overlapping span ``x``, ``I-x`` on the next ones."""
    tags = [0] * len(offsets)
    for number, field in enumerate(FIELDS):
        span = spans.get(field)
        if span is None:
            continue
        begin, inside = 1 + 2 * number, False
        for t, (start, end) in enumerate(offsets):
            if end > span[0] and start < span[1] and end > start:
                tags[t] = begin + inside
                inside = True
    return tags


def tag_tensor(windows, width: int, targets: Mapping[tuple[int, int], Mapping]) -> torch.Tensor:
    """(windows, width) tag ids of the target sentences that have span targets; ``IGNORE`` elsewhere.

    ``targets[(article, sentence)]`` holds the sentence's ``speaker`` and ``cue`` as character ranges
    relative to the sentence (``None`` where it has none).
    """
    tags = torch.full((len(windows), width), IGNORE, dtype=torch.long)
    for b, window in enumerate(windows):
        for sentence, (start, end), is_target, offsets in zip(window.sentences, window.spans, window.targets,
                                                              window.offsets):
            spans = targets.get((window.article, sentence)) if is_target else None
            if spans is not None:
                row = sentence_tags(offsets[:end - start], spans)
                row += [0] * (end - start - len(row))     # an empty sentence's stand-in token
                tags[b, start:end] = torch.tensor(row, dtype=torch.long)
    return tags


def decode(probs: np.ndarray, offsets: Offsets) -> dict[str, tuple[int, int, float] | None]:
    """The likeliest speaker and cue of one sentence from its tokens' tag probabilities (tokens, tags):
    ``(start, end, score)`` relative to the sentence, the score being the run's mean probability of its
    tags, or ``None`` where no token's likeliest tag starts or continues one."""
    probs = probs[:len(offsets)]
    best = probs.argmax(-1)
    out: dict[str, tuple[int, int, float] | None] = {}
    for number, field in enumerate(FIELDS):
        begin, inside = 1 + 2 * number, 2 + 2 * number
        runs, t = [], 0
        while t < len(best):
            if best[t] in (begin, inside):
                first = t
                t += 1
                while t < len(best) and best[t] == inside:
                    t += 1
                runs.append((first, t))
            else:
                t += 1
        scored = [(float(probs[a:b, [begin, inside]].sum(-1).mean()), a, b) for a, b in runs
                  if offsets[b - 1][1] > offsets[a][0]]
        if scored:
            score, a, b = max(scored)
            out[field] = (offsets[a][0], offsets[b - 1][1], score)
        else:
            out[field] = None
    return out
