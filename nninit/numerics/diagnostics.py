"""Signal-propagation diagnostics of one forward and backward pass.

Computed only at recorded iterations, from the buffers the training loop already holds.
Layer ``l`` runs from 1 (first hidden layer) to ``L`` (the output layer: a sigmoid unit or a softmax).
"""

from __future__ import annotations

import numpy as np

from nninit.numerics.network import Cache

STAT_NAMES = ("z_mean", "z_std", "z_sq", "a_mean", "a_std", "dead", "w_norm", "grad_norm", "distinct")
"""Per-layer column prefixes; the column for layer ``l`` is ``f"{name}_{l}"``."""


def distinct_units(W: np.ndarray, b: np.ndarray, decimals: int = 10) -> int:
    """Number of distinct units in a layer: distinct rows of ``[W | b]``.

    Two units with the same incoming weights and bias compute the same function of the
    previous layer, and under gradient descent from a symmetric start they stay equal (the
    zeros init's failure to break symmetry shows as 1). Rows are compared after scaling by the
    largest magnitude in the layer and rounding to ``decimals`` places.

    Parameters
    ----------
    W : ndarray of float64, shape (n[l], n[l-1])
    b : ndarray of float64, shape (n[l], 1)

    Returns
    -------
    int
        Between 1 and ``n[l]``.
    """
    rows = np.hstack([W, b])
    top = np.max(np.abs(rows))
    if not np.isfinite(top):
        return int(np.unique(rows, axis=0).shape[0])
    scaled = rows / top if top > 0 else rows
    return int(np.unique(np.round(scaled, decimals), axis=0).shape[0])


def layer_statistics(
    parameters: dict[str, np.ndarray], cache: Cache, grads: dict[str, np.ndarray]
) -> dict[str, float]:
    """Per-layer statistics of the current forward and backward pass.

    For every layer ``l``: mean, standard deviation and second moment ``E[z**2]`` of the
    pre-activation (``z_mean_l``, ``z_std_l``, ``z_sq_l``), mean and standard deviation of the
    activation (``a_mean_l``, ``a_std_l``), the Frobenius norms of ``W[l]`` and of ``dW[l]``
    (``w_norm_l``, ``grad_norm_l``); for hidden layers also the fraction of dead units, zero on
    every example (``dead_l``), and the number of distinct units (``distinct_l``, see
    :func:`distinct_units`). Statistics run over all units and examples of the layer.

    Parameters
    ----------
    parameters, grads : dict of str to ndarray
        Current parameters and the gradients from :func:`nninit.numerics.network.backward`.
    cache : Cache
        Buffers holding the pass's ``Z`` and ``A``.

    Returns
    -------
    dict of str to float
    """
    L = len(cache.layers_dims) - 1
    row: dict[str, float] = {}
    for l in range(1, L + 1):
        Z, A = cache.Z[l], cache.A[l]
        row[f"z_mean_{l}"] = float(Z.mean())
        row[f"z_std_{l}"] = float(Z.std())
        row[f"z_sq_{l}"] = float(np.mean(Z * Z))
        row[f"a_mean_{l}"] = float(A.mean())
        row[f"a_std_{l}"] = float(A.std())
        row[f"w_norm_{l}"] = float(np.linalg.norm(parameters[f"W{l}"]))
        row[f"grad_norm_{l}"] = float(np.linalg.norm(grads[f"dW{l}"]))
        if l < L:
            row[f"dead_{l}"] = float(np.mean(~np.any(A != 0.0, axis=1)))
            row[f"distinct_{l}"] = distinct_units(parameters[f"W{l}"], parameters[f"b{l}"])
    return row
