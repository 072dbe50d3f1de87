"""The app: one run top to bottom (:mod:`nninit.app.experiment`), the configuration and its
checks, the written comparison, the tracker, and Hydra at the edge (:mod:`nninit.app.hydra`)."""
