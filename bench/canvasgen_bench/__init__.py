"""Benchmarks of canvasgen against the naive design and the physical floor, as ratios measured in one run."""
