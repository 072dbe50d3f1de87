"""Update rules of the training loop: gradient descent, momentum, Nesterov momentum and Adam.

Each rule updates one flat float64 buffer of parameters ``theta`` in place from the flat buffer of their
gradients ``g`` (the same layout: :func:`nninit.numerics.network.allocate_parameters`), keeping its own
state (velocity, moments) in buffers of the same size, so that a step is a few vectorised numpy calls.
``g`` is the buffer of the backward pass and may be overwritten by a step. :data:`OPTIMIZERS` names them
(the values of ``train.optimizer``); :func:`make_optimizer` builds one from the training settings.

Sources: Polyak 1964 (heavy ball); Sutskever, Martens, Dahl & Hinton 2013, "On the importance of
initialization and momentum in deep learning", ICML, eqs. 1-4; Bengio, Boulanger-Lewandowski & Pascanu
2013, "Advances in optimizing recurrent networks", ICASSP, eq. 7 (Nesterov momentum on the stored
parameters); Kingma & Ba 2015, "Adam: a method for stochastic optimization", ICLR, Algorithm 1.
"""

from __future__ import annotations

import numpy as np


class GradientDescent:
    """Gradient descent: ``theta <- theta - eta * g``.

    The notebook's update, as two in-place operations over the whole buffer (``g`` is scaled in place),
    which keeps its published numbers bit for bit.

    Parameters
    ----------
    size : int
        Number of parameters (unused: no state).
    learning_rate : float
        ``eta``, > 0.
    """

    def __init__(self, size: int, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def step(self, theta: np.ndarray, g: np.ndarray) -> None:
        """One update of ``theta`` (shape ``(size,)``) from the gradient ``g`` (same shape; overwritten)."""
        np.multiply(g, self.learning_rate, out=g)
        np.subtract(theta, g, out=theta)


class Momentum:
    """Heavy-ball momentum (Polyak 1964), as Sutskever et al. 2013, eq. 1-2 write it::

        v     <- mu * v - eta * g(theta)
        theta <- theta + v

    with ``v = 0`` before the first step (so the first step is gradient descent's).

    Parameters
    ----------
    size : int
        Number of parameters.
    learning_rate : float
        ``eta``, > 0.
    momentum : float
        ``mu``, in [0, 1); 0 is gradient descent.
    """

    def __init__(self, size: int, learning_rate: float, momentum: float) -> None:
        self.learning_rate, self.momentum = learning_rate, momentum
        self.v = np.zeros(size)

    def step(self, theta: np.ndarray, g: np.ndarray) -> None:
        """One update of ``theta`` from ``g`` (overwritten)."""
        np.multiply(self.v, self.momentum, out=self.v)
        np.multiply(g, self.learning_rate, out=g)
        np.subtract(self.v, g, out=self.v)
        np.add(theta, self.v, out=theta)


class Nesterov(Momentum):
    """Nesterov's accelerated gradient in the reformulation of Bengio et al. 2013, eq. 7.

    Sutskever et al. 2013, eq. 3-4, take the gradient at the look-ahead point ``phi + mu v``:
    ``v <- mu v - eta g(phi + mu v)``, ``phi <- phi + v``. Storing ``theta = phi + mu v`` instead (the
    point where the gradient is taken, and the parameters the network evaluates) gives the same sequence
    with the gradient at the stored parameters::

        v     <- mu * v - eta * g(theta)
        theta <- theta + mu * v - eta * g(theta)       (the new v)

    with ``v = 0`` before the first step. This is the form of PyTorch's and Keras's ``nesterov=True``.

    Parameters
    ----------
    size : int
        Number of parameters.
    learning_rate : float
        ``eta``, > 0.
    momentum : float
        ``mu``, in [0, 1); 0 is gradient descent.
    """

    def step(self, theta: np.ndarray, g: np.ndarray) -> None:
        """One update of ``theta`` from ``g`` (overwritten)."""
        np.multiply(g, self.learning_rate, out=g)  # g is eta * g from here on
        np.multiply(self.v, self.momentum, out=self.v)
        np.subtract(self.v, g, out=self.v)
        np.subtract(theta, g, out=theta)
        theta += self.momentum * self.v


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1), bias-corrected::

        t <- t + 1
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t),   v_hat = v / (1 - beta2**t)
        theta <- theta - eta * m_hat / (sqrt(v_hat) + epsilon)

    with ``m = v = 0`` and ``t = 0`` before the first step. Weight decay (``train.weight_decay``) enters
    through ``g`` as an L2 term, as in the paper's setting, not decoupled (AdamW).

    Parameters
    ----------
    size : int
        Number of parameters.
    learning_rate : float
        ``eta`` (the paper's alpha), > 0.
    beta1, beta2 : float
        Decay rates of the first and second moment estimates, in (0, 1).
    epsilon : float
        > 0, added to ``sqrt(v_hat)``.
    """

    def __init__(self, size: int, learning_rate: float, beta1: float, beta2: float, epsilon: float) -> None:
        self.learning_rate, self.beta1, self.beta2, self.epsilon = learning_rate, beta1, beta2, epsilon
        self.m, self.v, self.t = np.zeros(size), np.zeros(size), 0
        self.work = np.empty(size)

    def step(self, theta: np.ndarray, g: np.ndarray) -> None:
        """One update of ``theta`` from ``g`` (overwritten)."""
        self.t += 1
        m, v, work = self.m, self.v, self.work
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        np.multiply(g, g, out=g)
        v *= self.beta2
        v += (1.0 - self.beta2) * g
        np.divide(v, 1.0 - self.beta2**self.t, out=work)  # v_hat
        np.sqrt(work, out=work)
        work += self.epsilon
        np.divide(m, work, out=work)
        work *= self.learning_rate / (1.0 - self.beta1**self.t)  # eta * m_hat / (sqrt(v_hat) + eps)
        theta -= work


OPTIMIZERS = {"gd": GradientDescent, "momentum": Momentum, "nesterov": Nesterov, "adam": Adam}
"""The values of ``train.optimizer`` and their update rules."""


def make_optimizer(settings, size: int):
    """The update rule ``settings.optimizer`` names, with its hyper-parameters from ``settings``.

    Parameters
    ----------
    settings : nninit.numerics.training.TrainSettings
        ``optimizer``, ``learning_rate`` and the rule's own keys (``momentum``; ``beta1``, ``beta2``,
        ``epsilon``); the others' keys are ignored.
    size : int
        Number of parameters (the length of the flat buffers).

    Returns
    -------
    GradientDescent, Momentum, Nesterov or Adam
    """
    name, lr = settings.optimizer, settings.learning_rate
    if name in ("momentum", "nesterov"):
        return OPTIMIZERS[name](size, lr, settings.momentum)
    if name == "adam":
        return Adam(size, lr, settings.beta1, settings.beta2, settings.epsilon)
    return GradientDescent(size, lr)
