"""factattr.eval: metrics, baselines and evaluation reports."""
