"""The analysis: statistics, grouping runs, comparisons and their tables. It draws nothing."""
