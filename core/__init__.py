"""factattr: who makes each sentence's claim in conflict news, and what kind of claim it is.

``from factattr import Tagger`` loads a checkpoint and scores articles; ``load_config`` reads a YAML
config. Heavy modules (torch, transformers) load only when first used.
"""

from .config import Config, load_config
from .errors import CheckpointError, ConfigError, CorpusError, FactattrError, InputError

__version__ = "0.1.0"
__all__ = ["CheckpointError", "Config", "ConfigError", "CorpusError", "FactattrError", "InputError", "Tagger",
           "__version__", "load_config"]


def __getattr__(name: str):
    if name == "Tagger":
        from .model.tagger import Tagger

        return Tagger
    raise AttributeError(f"module 'factattr' has no attribute {name!r}")
