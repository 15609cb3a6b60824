"""factattr.training: fine-tuning a tagger from a YAML config (``factattr.training.train.train``)."""
