"""The network: a Hugging Face encoder and one linear classifier per label head over mean-pooled sentence tokens.

``ClaimTaggerModel`` is a ``transformers.PreTrainedModel`` and ``TaggerConfig`` its ``PretrainedConfig``:
a checkpoint's ``config.json`` is the one record of the label schema, and
``ClaimTaggerModel.from_pretrained(directory)`` loads it as any transformers model loads.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

from .spans import TAGS as SPAN_TAGS


class TaggerConfig(PretrainedConfig):
    """Everything needed to rebuild the network, saved as a checkpoint's ``config.json``.

    Args:
        encoder: the encoder's Hugging Face config (``to_dict()``).
        labels: ``{head: [label names in id order]}``, in head order: the label schema.
        descriptions: ``{head: [one line per label]}``, for model cards.
        temperatures: ``{head: T}``, softmax temperatures fitted on the dev split after training (1.0:
            uncalibrated); they change the probabilities, never the predicted label.
        spans: a token head tags each sentence's speaker and cue (``model.spans``) on the same pass.
        context, context_tokens, window_length: how sentences are packed into windows (``model.windows``);
            ``window_length`` is the config's ``encoder.max_length`` (transformers reserves ``max_length`` for
            generation).
    """

    model_type = "factattr"

    def __init__(self, encoder: dict | None = None, labels: dict | None = None, descriptions: dict | None = None,
                 dropout: float = 0.1, context: bool = True, context_tokens: int = 64, window_length: int = 256,
                 temperatures: dict | None = None, head_order: list | None = None, spans: bool = False, **kwargs):
        labels = labels or {}
        # JSON configs are written with sorted keys; the heads' order is kept apart and restored here.
        self.head_order = list(head_order) if head_order else list(labels)
        if isinstance(labels, dict) and set(self.head_order) == set(labels):
            labels = {head: labels[head] for head in self.head_order}
        self.encoder = encoder or {}
        self.labels = labels
        self.descriptions = descriptions or {}
        self.dropout = dropout
        self.context = context
        self.context_tokens = context_tokens
        self.window_length = window_length
        self.spans = spans
        temperatures = temperatures if temperatures is not None else {head: 1.0 for head in self.labels}
        if isinstance(temperatures, dict) and set(temperatures) == set(self.labels):
            temperatures = {head: temperatures[head] for head in self.labels}
        self.temperatures = temperatures
        super().__init__(**kwargs)

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(self.labels)

    def encoder_config(self) -> PretrainedConfig:
        data = dict(self.encoder)
        return AutoConfig.for_model(data.pop("model_type"), **data)


@dataclass
class TaggerOutput:
    """``logits[head]``: (N, labels of the head), one row per target sentence, heads in schema order;
    ``span_logits``: (B, T, span tags), one row per token, for a model with the span head."""

    logits: dict[str, torch.Tensor]
    span_logits: torch.Tensor | None = None


def build_encoder(encoder_config: PretrainedConfig, pretrained_dir: str | None = None,
                  attn_implementation: str | None = None) -> nn.Module:
    """An encoder without the pooler we do not use (from pretrained weights when a directory is given).

    ``attn_implementation`` (e.g. ``"eager"``) overrides transformers' choice of attention kernel.
    """
    from transformers.utils import logging as hf_logging

    kwargs = {"add_pooling_layer": False} if encoder_config.model_type in {"bert", "roberta", "xlm-roberta"} else {}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if pretrained_dir is None:
        return AutoModel.from_config(encoder_config, **kwargs)
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the pretrained pooler we drop on purpose is reported as "unexpected"
    try:
        return AutoModel.from_pretrained(pretrained_dir, **kwargs)
    finally:
        hf_logging.set_verbosity(level)


class ClaimTaggerModel(PreTrainedModel):
    """Encoder -> mean of each target sentence's token states -> dropout -> one linear classifier per head;
    optionally a linear tagger on every token for the speaker and cue spans."""

    config_class = TaggerConfig
    base_model_prefix = "tagger"

    def __init__(self, config: TaggerConfig, encoder: nn.Module | None = None):
        super().__init__(config)
        self.encoder = encoder if encoder is not None else build_encoder(config.encoder_config())
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.dropout)
        self.heads = nn.ModuleDict({head: nn.Linear(hidden, len(labels)) for head, labels in config.labels.items()})
        self.span_head = nn.Linear(hidden, len(SPAN_TAGS)) if config.spans else None
        self.post_init()

    def init_weights(self) -> None:
        # The encoder arrives initialised (pretrained, or its own random init) and the heads keep torch's
        # default init, drawn from the training seed; nothing is re-initialised here.
        pass

    def pool(self, hidden: torch.Tensor, token_target: torch.Tensor, num_targets: int) -> torch.Tensor:
        """Mean of each target sentence's token states: (B, T, H) -> (N, H)."""
        flat_hidden = hidden.reshape(-1, hidden.size(-1))          # (B*T, H)
        flat_target = token_target.reshape(-1)                      # (B*T,)
        keep = flat_target >= 0
        index = flat_target[keep]
        sums = flat_hidden.new_zeros((num_targets, hidden.size(-1))).index_add_(0, index, flat_hidden[keep])
        counts = torch.bincount(index, minlength=num_targets).clamp(min=1).unsqueeze(-1)
        return sums / counts.to(sums.dtype)

    def classify(self, hidden: torch.Tensor, token_target: torch.Tensor, num_targets: int) -> TaggerOutput:
        """Every head's logits from the encoder's token states (shared with the ONNX Runtime backend)."""
        pooled = self.dropout(self.pool(hidden, token_target, num_targets))                          # (N, H)
        spans = self.span_head(self.dropout(hidden)) if self.span_head is not None else None         # (B, T, tags)
        return TaggerOutput({head: layer(pooled) for head, layer in self.heads.items()}, spans)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_target: torch.Tensor,
                num_targets: int) -> TaggerOutput:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (B, T, H)
        return self.classify(hidden, token_target, num_targets)


AutoConfig.register(TaggerConfig.model_type, TaggerConfig)
AutoModel.register(TaggerConfig, ClaimTaggerModel)
