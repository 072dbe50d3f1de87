"""Minibatches of the training set, reshuffled every epoch: the input of one update of minibatch training.

An epoch is one pass over a random permutation of the ``m`` training examples, drawn from a
``numpy.random.RandomState(shuffle_seed)`` of its own (the weights' generator is not touched), in
``ceil(m / batch_size)`` batches: ``m // batch_size`` batches of ``batch_size`` examples, then, when
``batch_size`` does not divide ``m``, one smaller batch of the ``m % batch_size`` examples left over (its
gradient is the mean over its own examples, as every batch's). A batch size of ``m`` or more is one batch of
all ``m`` examples per epoch (in shuffled order). Each batch is copied into preallocated buffers, with a
:class:`~nninit.numerics.network.Cache` for each of the two batch sizes, so that an update allocates nothing.
"""

from __future__ import annotations

import numpy as np

from nninit.numerics.network import Cache


class Minibatches:
    """The batches of an epoch, one per call of :meth:`next`, each epoch in a fresh random order.

    Parameters
    ----------
    X : ndarray of float64, shape (n_x, m)
    Y : ndarray of float64, shape (n_y, m)
    layers_dims : list of int
        ``[n_x, n1, ..., nL]`` (the caches' shapes).
    batch_size : int
        Examples per batch, >= 1 (at most ``m`` are used).
    shuffle_seed : int
        Seed of the ``RandomState`` that draws each epoch's permutation.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, layers_dims: list[int], batch_size: int, shuffle_seed: int):
        self.X, self.Y, self.m = X, Y, X.shape[1]
        self.batch_size = min(batch_size, self.m)
        self.per_epoch = -(-self.m // self.batch_size)  # ceil(m / batch_size)
        self.rng = np.random.RandomState(shuffle_seed)
        self.buffers = {n: self._buffers(layers_dims, n) for n in {self.batch_size, self.m % self.batch_size} if n}
        self.order = np.empty(0, dtype=np.intp)
        self.position = self.m  # the first call of next() draws the first permutation

    def _buffers(self, layers_dims: list[int], n: int) -> tuple[np.ndarray, np.ndarray, Cache]:
        X_batch, Y_batch = np.empty((self.X.shape[0], n)), np.empty((self.Y.shape[0], n))
        return X_batch, Y_batch, Cache(layers_dims, X_batch)

    def next(self) -> tuple[Cache, np.ndarray, np.ndarray]:
        """The next batch: its cache (``cache.A[0]`` holds its inputs), its labels and the indices of its
        examples in ``X`` (a view of the epoch's permutation; valid until the next call)."""
        if self.position >= self.m:
            self.order, self.position = self.rng.permutation(self.m), 0
        index = self.order[self.position : self.position + self.batch_size]
        self.position += index.size
        X_batch, Y_batch, cache = self.buffers[index.size]
        np.take(self.X, index, axis=1, out=X_batch)
        np.take(self.Y, index, axis=1, out=Y_batch)
        return cache, Y_batch, index

    def epoch(self, updates: int) -> float:
        """Epochs completed after ``updates`` updates: examples visited over ``m`` (an integer at the end
        of every epoch, a fraction inside one)."""
        whole, part = divmod(updates, self.per_epoch)
        return whole + min(part * self.batch_size, self.m) / self.m
