"""Benchmarks: slow, rerunnable, printing their figures and writing ``bench/results/<name>.json``.

Run all with ``make bench`` (``python -m bench``) or one with ``python -m bench ratelimit``.
They are not part of ``make test``; a fast smoke run of each is.
"""
