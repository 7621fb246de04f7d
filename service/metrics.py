"""Prometheus metrics, one registry per app (so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("diplotag_requests_total", "HTTP requests by route and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("diplotag_request_latency_seconds", "Request latency by route", ["route"],
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=r)
        self.sentences = Counter("diplotag_sentences_scored_total", "Sentences scored", registry=r)
        self.batch_size = Histogram("diplotag_batch_size_sentences", "Sentences per forward batch group",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), registry=r)
        self.queue_depth = Gauge("diplotag_queue_depth", "Requests waiting for the batcher", registry=r)
        self.model_info = Info("diplotag_model", "The model being served", registry=r)
        self.model_loaded = Gauge("diplotag_model_loaded", "1 when a model is loaded", registry=r)
        self.reloads = Counter("diplotag_model_reloads_total", "Model reloads by outcome", ["outcome"], registry=r)
