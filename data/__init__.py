"""factattr.data: the corpus format (reading, validation, splits, statistics) and sentence segmentation."""

from .corpus import load_splits, read_corpus, split_articles, stats_table, to_dataset, validate_file
from .segment import segment
from .types import Article, Sentence

__all__ = ["Article", "Sentence", "load_splits", "read_corpus", "segment", "split_articles", "stats_table", "to_dataset", "validate_file"]
