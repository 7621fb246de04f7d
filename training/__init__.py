"""Data, training, thresholds, evaluation and model versions."""
