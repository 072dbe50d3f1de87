"""The figures: a run's own (cost, decision boundary, signal propagation, animation) and a
comparison's, drawn with matplotlib's Agg backend from run folders."""
