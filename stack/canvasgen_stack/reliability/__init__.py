"""The fault-injection suite: scenarios that break one part of the real stack and count what was lost.

Each scenario drives the local stack (functions, database, storage, fal simulator, Realtime) through a
fault and reports how many nodes ended stuck loading or without their result, and how many autosaved
edits went missing. `canvasgen faults` runs them all and writes `docs/reliability.md`; the test suite
runs each once and requires zeros.
"""
