"""The numerics: activations, initializers, LSUV, the network, training (and what it records), diagnostics and the
mean-field theory, from scratch in numpy (and scipy). Nothing here imports the rest of nninit."""
