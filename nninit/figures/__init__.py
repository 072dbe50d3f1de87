"""The figures, drawn with matplotlib's Agg backend from run folders: ``style`` (the figure, its save,
shared styles), ``plots`` (a run's figures, :func:`nninit.figures.plots.plot_run`), ``boundary`` (the
decision boundary and its animation), ``comparison_plots`` (a sweep's groups), ``drawing`` (how a run
draws them: in process, or by the helper process of ``helper_process``)."""
