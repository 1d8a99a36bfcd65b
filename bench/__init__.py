"""Benchmarks for issue 2's speed targets. `python -m bench` runs them all.

Every figure is printed next to a reference measured in the same run, as a ratio, so the
numbers mean something on any machine. Set FLOWDECK_BENCH_QUICK=1 (or pass quick=True to
a module's `main`) for tiny sizes: a smoke test of the code, not a measurement.
"""
