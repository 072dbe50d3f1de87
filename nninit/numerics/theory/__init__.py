"""Mean-field theory of signal propagation at initialization: q*, chi_1, the correlation map, depth scales.

A fully connected network with ``W_ij ~ N(0, weight_variance / fan_in)`` and ``b_i ~ N(0,
bias_variance)`` (``init=variance_scaling init.distribution=normal init.scale=weight_variance
init.bias_std=sqrt(bias_variance)``) has, as its width grows, Gaussian pre-activations whose
second moment ``q`` and correlation ``c`` between two inputs follow deterministic maps from layer to
layer (Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli 2016, "Exponential expressivity in deep
neural networks through transient chaos", section 2; Schoenholz, Gilmer, Ganguli &
Sohl-Dickstein 2017, "Deep information propagation", section 2). With ``sigma_w**2`` the weight
variance, ``sigma_b**2`` the bias variance, ``phi`` the activation and ``z, z1, z2`` independent
standard normals:

- the length map ``q_l = sigma_w**2 E[phi(sqrt(q_(l-1)) z)**2] + sigma_b**2`` and its fixed point q*;
- the covariance map ``q12_l = sigma_w**2 E[phi(u1) phi(u2)] + sigma_b**2`` with
  ``u1 = sqrt(q1) z1``, ``u2 = sqrt(q2) (c z1 + sqrt(1 - c**2) z2)``, and the correlation
  ``c_l = q12_l / sqrt(q1_l q2_l)``; at q* it is the correlation map ``c -> c'``, with the fixed
  point c* (``c* = 1``: ordered phase);
- ``chi_1 = sigma_w**2 E[phi'(sqrt(q*) z)**2]``, the slope of the correlation map at ``c = 1`` and
  the mean squared singular value of one layer's Jacobian; ``chi_1 < 1`` is the ordered phase,
  ``chi_1 > 1`` the chaotic one, ``chi_1 = 1`` the edge of chaos (Poole et al. 2016);
- the depth scales ``xi_q = -1 / log chi_q`` with ``chi_q = sigma_w**2 E[phi'(u)**2 + phi(u)
  phi''(u)]`` at ``u = sqrt(q*) z`` (the slope of the length map at q*) and ``xi_c = -1 / log
  chi_c`` with ``chi_c = sigma_w**2 E[phi'(u1) phi'(u2)]`` at (q*, c*) (Schoenholz et al. 2017,
  section 3): ``|q_l - q*|`` and ``|c_l - c*|`` decay like ``exp(-l / xi)``; ``xi_c`` diverges on
  the critical line.

ReLU and leaky ReLU are computed in closed form: the arc-cosine kernel of order 1 (Cho & Saul 2009,
"Kernel methods for deep learning", eq. 6) gives ``E[relu(u1) relu(u2)] = sqrt(q1 q2) (sin t +
(pi - t) cos t) / (2 pi)`` and its order 0 ``E[relu'(u1) relu'(u2)] = (pi - t) / (2 pi)``, ``t =
arccos c``; leaky ReLU is ``a u + (1 - a) relu(u)``. (Gauss-Hermite quadrature, exact for
polynomials, is badly wrong at the kink: 101 nodes give chi_1 = 0.88 for He on ReLU, where the
truth is exactly 1.) tanh and sigmoid are integrated numerically by composite Gauss-Legendre rules
whose panels are as fine as the sharper of the Gaussian and the activation, on [-10, 10] standard
deviations (the tails beyond weigh less than 1e-22): relative error below 1e-9 against
``scipy.integrate.quad`` (``tests/test_theory.py``).

Activations are :class:`~nninit.numerics.activations.Activation` values: ``relu``, ``leaky_relu``
(with its ``negative_slope``), ``tanh``, ``sigmoid``. Every function takes float64 scalars unless it
says arrays are accepted.
"""

from nninit.numerics.theory.depth import DepthScales, critical_weight_variance, depth_scales
from nninit.numerics.theory.fixed_points import c_star, chi1, correlation_map, q_star
from nninit.numerics.theory.gaussian import expect, expect_pair, standard_normal_rule
from nninit.numerics.theory.maps import PIECEWISE_LINEAR, SMOOTH, covariance_map, length_map

__all__ = ["PIECEWISE_LINEAR", "SMOOTH", "DepthScales", "c_star", "chi1", "correlation_map", "covariance_map",
           "critical_weight_variance", "depth_scales", "expect", "expect_pair", "length_map", "q_star",
           "standard_normal_rule"]
