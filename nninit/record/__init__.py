"""The run record: run folders and their locks, finding runs, stop signals, progress, memory and
the numerical platform."""
