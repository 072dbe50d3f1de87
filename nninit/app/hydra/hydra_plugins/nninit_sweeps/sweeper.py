"""The default sweeper (``hydra/sweeper=nninit``): Hydra's basic sweeper, whose check of every job's config
before a batch is launched composes them with :class:`nninit.app.hydra.sweep.JobComposer`."""

from __future__ import annotations

from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper


class NninitSweeper(BasicSweeper):
    """Hydra's :class:`~hydra._internal.core_plugins.basic_sweeper.BasicSweeper` (the same jobs, order, batches
    and ``multirun.yaml``), with a faster check of the jobs' configs.

    Hydra's check composes every job's config from scratch, serially, before the first job starts (about
    0.1–0.25 s a job). This one composes them with :class:`~nninit.app.hydra.sweep.JobComposer` (the same
    configs, the same errors), and not at all when the launcher is nninit's joblib launcher, which composes
    every job once, before any runs, and hands each worker its config.
    """

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        from hydra_plugins.nninit_sweeps.joblib_launcher import NninitJoblibLauncher

        from nninit.app.hydra.sweep import JobComposer  # here: nninit.app.hydra registers this module

        if isinstance(self.launcher, NninitJoblibLauncher):
            return  # it composes (and so checks) every job before launching any
        composer = JobComposer(self.hydra_context.config_loader, self.config)
        for overrides in batch:
            composer.compose(list(overrides))
