"""What a trained diplotag model is and how it predicts."""
