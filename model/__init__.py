"""factattr.model: the network, checkpoints, batched inference and the scoring API."""

from .checkpoint import build_model, load_checkpoint, save_checkpoint
from .modeling import ClaimTaggerModel, TaggerConfig, TaggerOutput
from .tagger import ArticleResult, SentenceResult, Tagger

__all__ = ["ArticleResult", "ClaimTaggerModel", "SentenceResult", "Tagger", "TaggerConfig", "TaggerOutput",
           "build_model", "load_checkpoint", "save_checkpoint"]
