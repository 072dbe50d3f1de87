"""A deliberately plain training loop, written the way the course's helper code is.

Parameters live in a dict, the cost is computed on every iteration, and every update creates new
arrays. It exists as the baseline of ``scripts/benchmark.py`` and of the tests that check that
the harness's optimized loop (:func:`nninit.numerics.training.train`) computes the same parameters. It
supports the ReLU hidden layers and sigmoid output of the seed network, at any depth.
"""

from __future__ import annotations

import numpy as np


def naive_train(
    X: np.ndarray, Y: np.ndarray, parameters: dict[str, np.ndarray], learning_rate: float, num_iterations: int
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Full-batch gradient descent, recomputing everything every iteration.

    Parameters
    ----------
    X : ndarray of float64, shape (n_x, m)
    Y : ndarray of float64, shape (1, m)
    parameters : dict of str to ndarray
        ``W1, b1, ..., WL, bL``; not modified.
    learning_rate : float
    num_iterations : int

    Returns
    -------
    parameters : dict of str to ndarray
        After ``num_iterations`` updates.
    costs : list of float
        The cost before each update (``nansum`` of the log-likelihoods, as the course code).
    """
    params = dict(parameters)
    L = len(params) // 2
    m = X.shape[1]
    costs = []
    for _ in range(num_iterations):
        # forward
        caches = [(None, X)]
        A = X
        for l in range(1, L + 1):
            Z = np.dot(params["W" + str(l)], A) + params["b" + str(l)]
            A = 1 / (1 + np.exp(-Z)) if l == L else np.maximum(0, Z)
            caches.append((Z, A))
        # cost, every iteration
        with np.errstate(divide="ignore", invalid="ignore"):
            logprobs = np.multiply(-np.log(A), Y) + np.multiply(-np.log(1 - A), 1 - Y)
        costs.append(1.0 / m * np.nansum(logprobs))
        # backward
        grads = {}
        dZ = 1.0 / m * (A - Y)
        for l in range(L, 0, -1):
            A_prev = caches[l - 1][1]
            grads["dW" + str(l)] = np.dot(dZ, A_prev.T)
            grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True)
            if l > 1:
                dA = np.dot(params["W" + str(l)].T, dZ)
                dZ = np.multiply(dA, np.int64(A_prev > 0))
        # update: new arrays
        for l in range(1, L + 1):
            params["W" + str(l)] = params["W" + str(l)] - learning_rate * grads["dW" + str(l)]
            params["b" + str(l)] = params["b" + str(l)] - learning_rate * grads["db" + str(l)]
    return params, costs
