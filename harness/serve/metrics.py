"""Counters of the router server, exported as Prometheus text or JSON."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

PREFIX = "harness_serve"


@dataclass
class LatencySum:
    """A running sum and count of durations in seconds (a Prometheus summary without quantiles)."""

    total_s: float = 0.0
    count: int = 0

    def add(self, seconds: float) -> None:
        self.total_s += seconds
        self.count += 1


@dataclass
class ServeMetrics:
    """Counters since the server started.

    ``requests`` is keyed by (endpoint, HTTP status); ``routed`` counts
    requests that the router sent to each model, ``direct`` those that named
    a pool model; ``errors`` is keyed by OpenAI error type. Latencies are
    sums in seconds: ``request`` the whole chat request, ``routing`` the
    embedding plus the router decision, ``embedding`` the encoder alone (as
    seen by the request, queueing included), ``upstream`` the gateway call.
    """

    started: float = field(default_factory=time.time)
    requests: Counter = field(default_factory=Counter)
    routed: Counter = field(default_factory=Counter)
    direct: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    cache_hits: int = 0
    embedding_cache_hits: int = 0
    embedding_batches: int = 0
    embedding_batch_texts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    request_latency: LatencySum = field(default_factory=LatencySum)
    routing_latency: LatencySum = field(default_factory=LatencySum)
    embedding_latency: LatencySum = field(default_factory=LatencySum)
    upstream_latency: LatencySum = field(default_factory=LatencySum)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_batch(self, size: int) -> None:
        """Count one encoder forward pass over ``size`` texts."""
        with self.lock:
            self.embedding_batches += 1
            self.embedding_batch_texts += size

    def to_json(self) -> dict[str, Any]:
        """Return every counter as a JSON-ready dict."""
        with self.lock:
            latencies = {
                name: {"sum_s": round(value.total_s, 6), "count": value.count}
                for name, value in (("request", self.request_latency), ("routing", self.routing_latency),
                                    ("embedding", self.embedding_latency), ("upstream", self.upstream_latency))
            }
            return {
                "uptime_s": round(time.time() - self.started, 3),
                "requests": [{"endpoint": e, "status": s, "count": c} for (e, s), c in sorted(self.requests.items())],
                "routed": dict(sorted(self.routed.items())),
                "direct": dict(sorted(self.direct.items())),
                "errors": dict(sorted(self.errors.items())),
                "cache_hits": self.cache_hits,
                "embedding_cache_hits": self.embedding_cache_hits,
                "embedding_batches": self.embedding_batches,
                "embedding_batch_texts": self.embedding_batch_texts,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "cost_usd": self.cost_usd,
                "latency": latencies,
            }

    def to_prometheus(self) -> str:
        """Return the counters in the Prometheus text exposition format (version 0.0.4)."""
        data = self.to_json()
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> None:
            lines.append(f"# HELP {PREFIX}_{name} {help_text}")
            lines.append(f"# TYPE {PREFIX}_{name} {kind}")
            for labels, value in samples:
                rendered = ",".join(f'{key}="{_escape(str(val))}"' for key, val in labels.items())
                lines.append(f"{PREFIX}_{name}{{{rendered}}} {value}" if rendered else f"{PREFIX}_{name} {value}")

        metric("requests_total", "counter", "HTTP requests by endpoint and status code.",
               [({"endpoint": r["endpoint"], "status": str(r["status"])}, r["count"]) for r in data["requests"]])
        metric("routed_total", "counter", "Chat requests the router sent to each model.",
               [({"model": m}, c) for m, c in data["routed"].items()])
        metric("direct_total", "counter", "Chat requests that named a pool model directly.",
               [({"model": m}, c) for m, c in data["direct"].items()])
        metric("errors_total", "counter", "Failed chat requests by OpenAI error type.",
               [({"type": t}, c) for t, c in data["errors"].items()])
        metric("cache_hits_total", "counter", "Answers served from the response cache.", [({}, data["cache_hits"])])
        metric("embedding_cache_hits_total", "counter", "Queries whose embedding was found in memory.",
               [({}, data["embedding_cache_hits"])])
        metric("embedding_batches_total", "counter", "Encoder forward passes.", [({}, data["embedding_batches"])])
        metric("embedding_batch_texts_total", "counter", "Texts encoded, summed over forward passes.",
               [({}, data["embedding_batch_texts"])])
        metric("tokens_total", "counter", "Tokens of served answers.",
               [({"kind": "prompt"}, data["prompt_tokens"]), ({"kind": "completion"}, data["completion_tokens"])])
        metric("cost_usd_total", "counter", "Cost of served answers in US dollars, cached answers included.",
               [({}, data["cost_usd"])])
        for name, value in data["latency"].items():
            metric(f"{name}_latency_seconds", "summary", f"Latency of the {name} step in seconds.", [])
            lines.append(f"{PREFIX}_{name}_latency_seconds_sum {value['sum_s']}")
            lines.append(f"{PREFIX}_{name}_latency_seconds_count {value['count']}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
