"""The TF-IDF + logistic-regression baseline, trained on the same split as the model."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from diplotag.model.schema import DEFAULT_SCHEMA, LabelSchema
from diplotag.training.data import Row, label_arrays


class TfidfBaseline:
    """Word 1–2-grams plus character 2–5-grams; one LR per topic, multinomial LR per head."""

    def __init__(self, schema: LabelSchema = DEFAULT_SCHEMA, seed: int = 13) -> None:
        self.schema = schema
        self.seed = seed
        self.vectorizer = FeatureUnion([
            ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
        ])

    def _lr(self) -> LogisticRegression:
        return LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced", random_state=self.seed)

    def fit(self, rows: list[Row]) -> TfidfBaseline:
        x = self.vectorizer.fit_transform([r.text for r in rows])
        y = label_arrays(rows, self.schema)
        self.topic_models = []
        for k in range(len(self.schema.topics)):
            col = y["topics"][:, k]
            self.topic_models.append(self._lr().fit(x, col) if 0 < col.sum() < len(col) else int(col[0]))
        self.stance_model = self._lr().fit(x, y["stance"])
        self.rhetoric_model = self._lr().fit(x, y["rhetoric"])
        return self

    def predict(self, texts: list[str]) -> dict[str, np.ndarray]:
        x = self.vectorizer.transform(texts)
        topics = np.stack([
            m.predict(x) if not isinstance(m, int) else np.full(x.shape[0], m) for m in self.topic_models
        ], axis=1).astype(np.int64)
        return {"topics": topics, "stance": self.stance_model.predict(x).astype(np.int64),
                "rhetoric": self.rhetoric_model.predict(x).astype(np.int64)}
