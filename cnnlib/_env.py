"""Settings that must be in place before torch loads its OpenMP runtime.

GNU OpenMP (libgomp, which torch's CPU wheels ship) reads OMP_WAIT_POLICY once, when
it is loaded. With its default policy a thread that finishes its share of an
operation spins, burning its core, until the next one starts; on a machine where
other programs also want the cores, the spinning threads and the ones that were
preempted keep waiting for each other. ``import cnnlib`` sets the passive policy
(threads that wait sleep) unless the reader has chosen one, so it only takes effect
when cnnlib is imported before torch, as every notebook's setup cell does. Measured
on two busy cores (benchmarks/under_load.py and cnnlib.runtime): an epoch of a small
VGG on two threads took 19 s with the default policy and 5.8 s with the passive one.
"""

import os
import sys

# True when torch (and with it libgomp) was loaded before cnnlib: too late to choose
TORCH_LOADED_FIRST = "torch" in sys.modules
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
