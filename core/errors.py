"""Errors raised by factattr.

Every error is a ``FactattrError``; each also derives from the built-in type a caller would naturally
catch (``ValueError`` for bad input, ``OSError`` for unreadable checkpoints), as scikit-learn does.
Messages say what was wrong, where, and how to fix it.
"""


class FactattrError(Exception):
    """Base class of every error factattr raises on purpose."""


class ConfigError(FactattrError, ValueError):
    """A YAML config is malformed: unknown key, wrong type, missing file, bad override."""


class CorpusError(FactattrError, ValueError):
    """A corpus file breaks the corpus format; the message names the file, the line and the article."""


class CheckpointError(FactattrError, OSError):
    """A checkpoint directory is missing files or does not match the config it is used with."""


class InputError(FactattrError, ValueError):
    """An article given for scoring is not usable text (not a string, empty, whitespace only)."""


class ViewError(FactattrError, ValueError):
    """Input to ``factattr view`` (scored articles, a contested-claims file) breaks its format; the message
    names the file, the line, the article and the key."""
