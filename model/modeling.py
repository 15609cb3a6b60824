"""The network: a Hugging Face encoder and two linear heads over mean-pooled sentence tokens."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network (saved as a checkpoint's ``config.json``)."""

    encoder: dict                           # the encoder's Hugging Face config (``to_dict()``)
    source_labels: list[str]
    claim_labels: list[str]
    dropout: float = 0.1
    context: bool = True
    context_tokens: int = 64
    max_length: int = 256
    # Softmax temperatures fitted on the dev split after training (1.0: uncalibrated); they change the
    # probabilities, never the predicted label.
    temperatures: dict = field(default_factory=lambda: {"source": 1.0, "claim_type": 1.0})
    format_version: int = 1
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        return cls(**data)

    def encoder_config(self) -> PretrainedConfig:
        data = dict(self.encoder)
        return AutoConfig.for_model(data.pop("model_type"), **data)


@dataclass
class TaggerOutput:
    source_logits: torch.Tensor             # (N, num source labels), one row per target sentence
    claim_logits: torch.Tensor              # (N, num claim labels)
    loss: Optional[torch.Tensor] = None


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


class ClaimTaggerModel(nn.Module):
    """Encoder -> mean of each target sentence's token states -> dropout -> source and claim heads."""

    def __init__(self, config: ModelConfig, encoder: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.encoder = encoder if encoder is not None else build_encoder(config.encoder_config())
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.dropout)
        self.source_head = nn.Linear(hidden, len(config.source_labels))
        self.claim_head = nn.Linear(hidden, len(config.claim_labels))
        # Loss options are set by training; they are not part of the saved weights.
        self.register_buffer("source_class_weights", torch.ones(len(config.source_labels)), persistent=False)
        self.register_buffer("claim_class_weights", torch.ones(len(config.claim_labels)), persistent=False)
        self.head_weights = {"source": 1.0, "claim_type": 1.0}
        self.label_smoothing = 0.0

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
        """Both heads' logits from the encoder's token states (shared with the ONNX Runtime backend)."""
        pooled = self.dropout(self.pool(hidden, token_target, num_targets))                          # (N, H)
        return TaggerOutput(self.source_head(pooled), self.claim_head(pooled))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_target: torch.Tensor,
                num_targets: int, source_labels: torch.Tensor | None = None,
                claim_labels: torch.Tensor | None = None) -> TaggerOutput:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (B, T, H)
        out = self.classify(hidden, token_target, num_targets)
        if source_labels is not None and claim_labels is not None:
            source_loss = nn.functional.cross_entropy(out.source_logits, source_labels,
                                                      weight=self.source_class_weights,
                                                      label_smoothing=self.label_smoothing)
            claim_loss = nn.functional.cross_entropy(out.claim_logits, claim_labels,
                                                     weight=self.claim_class_weights,
                                                     label_smoothing=self.label_smoothing)
            out.loss = self.head_weights["source"] * source_loss + self.head_weights["claim_type"] * claim_loss
        return out
