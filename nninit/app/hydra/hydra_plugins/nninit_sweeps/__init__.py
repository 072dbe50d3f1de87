"""nninit's Hydra plugins, installed as ``hydra_plugins.nninit_sweeps`` (``pyproject.toml`` maps this folder
there; :func:`nninit.app.hydra.register_plugins` registers them too, which an editable install needs): a sweeper
(:mod:`~hydra_plugins.nninit_sweeps.sweeper`) and a joblib launcher
(:mod:`~hydra_plugins.nninit_sweeps.joblib_launcher`)
that compose each job's config once, quickly (:class:`nninit.app.hydra.sweep.JobComposer`)."""
