"""The data layer: the data sets a run trains and tests on (``data=`` options), made here only.

:data:`DATASETS` is the registry (one entry per option: its maker, its keys, its description);
:func:`describe` says how many features and classes a configured data set has.
"""

from nninit.data.sets import DATASETS, DatasetEntry, Description, describe, majority_rate, one_hot, stored_labels
from nninit.data.toy import CACHE_MAX_VALUES, Dataset, load_dataset, make_dataset

__all__ = ["CACHE_MAX_VALUES", "DATASETS", "DatasetEntry", "Dataset", "Description", "describe", "load_dataset",
           "majority_rate", "make_dataset", "one_hot", "stored_labels"]
