"""The numerics: activations, initializers, LSUV, the network, training, diagnostics and the
mean-field theory, from scratch in numpy (and scipy). Nothing here imports the rest of nninit."""
