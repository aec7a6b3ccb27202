"""Micro-batching of query embeddings: concurrent requests share one encoder forward pass."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

logger = logging.getLogger(__name__)

EncodeFn = Callable[[list[str]], np.ndarray]


class EmbeddingBatcher:
    """Encode queries on one worker thread, batching those that arrive while a pass runs.

    A request never waits for others to arrive: a lone query is encoded at
    once, and queries that queue up while the encoder is busy go together
    into the next forward pass. One pass at a time also keeps the encoder's
    threads from competing with each other for the cores.

    Parameters
    ----------
    encode : callable
        Maps a list of n texts to an array of shape (n, d), float32.
    max_batch : int
        Upper bound of texts per forward pass.
    cache_size : int
        Number of recent query embeddings kept in memory; 0 disables it.
    on_batch : callable, optional
        Called with the size of each forward pass, for metrics.
    """

    def __init__(self, encode: EncodeFn, max_batch: int = 32, cache_size: int = 1024,
                 on_batch: Callable[[int], None] | None = None) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self._encode = encode
        self.max_batch = max_batch
        self.cache_size = cache_size
        self._on_batch = on_batch
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._pending: list[tuple[str, asyncio.Future]] = []
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def cached(self, text: str) -> np.ndarray | None:
        """Return the stored embedding of ``text``, shape (d,), or None."""
        vector = self._cache.get(text)
        if vector is not None:
            self._cache.move_to_end(text)
        return vector

    def _remember(self, text: str, vector: np.ndarray) -> None:
        if self.cache_size <= 0:
            return
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def encode_now(self, texts: list[str]) -> np.ndarray:
        """Encode texts on the calling thread, bypassing the queue; shape (n, d)."""
        return self._encode(texts)

    async def encode(self, text: str) -> np.ndarray:
        """Return the embedding of one query, shape (d,), float32."""
        vector = self.cached(text)
        if vector is not None:
            return vector
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # The queue and its worker belong to one event loop.
            self._loop = loop
            self._pending = []
            self._wakeup = asyncio.Event()
            self._worker = loop.create_task(self._run(), name="embedding-batcher")
        future: asyncio.Future = loop.create_future()
        self._pending.append((text, future))
        assert self._wakeup is not None
        self._wakeup.set()
        return await future

    async def _run(self) -> None:
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: len(batch)]
                live = [(text, future) for text, future in batch if not future.done()]
                if not live:
                    continue
                texts = list(dict.fromkeys(text for text, _ in live))
                try:
                    vectors = await loop.run_in_executor(self._executor, self._encode, texts)
                except Exception as error:  # every waiting request gets the encoder's error
                    logger.error("embedding a batch of %d queries failed: %s: %s", len(texts), type(error).__name__, error)
                    for _, future in live:
                        if not future.done():
                            future.set_exception(error)
                    continue
                if self._on_batch is not None:
                    self._on_batch(len(texts))
                by_text = dict(zip(texts, vectors))
                for text, vector in by_text.items():
                    self._remember(text, vector)
                for text, future in live:
                    if not future.done():
                        future.set_result(by_text[text])

    async def aclose(self) -> None:
        """Stop the worker task and the encoder thread."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        self._loop = None
        self._executor.shutdown(wait=False)
