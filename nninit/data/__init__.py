"""The data layer: the data sets a run trains and tests on (``data=`` options), made here only."""

from nninit.data.toy import CACHE_MAX_VALUES, DATASETS, Dataset, load_dataset, make_dataset

__all__ = ["CACHE_MAX_VALUES", "DATASETS", "Dataset", "load_dataset", "make_dataset"]
