"""``paired_km`` (per-point terms taken once, pair arithmetic in place) gives ``great_circle_km``'s digits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios import great_circle_km
from scenarios.geography import paired_km

latitudes = st.lists(st.floats(-90, 90), min_size=1, max_size=12)
longitudes = st.floats(-180, 180)


@settings(max_examples=200, deadline=None)
@given(lat1=latitudes, lat2=latitudes, data=st.data())
def test_paired_km_is_great_circle_km_on_the_gathered_points(lat1: list[float], lat2: list[float],
                                                               data: st.DataObject) -> None:
    lon1 = np.array(data.draw(st.lists(longitudes, min_size=len(lat1), max_size=len(lat1))))
    lon2 = np.array(data.draw(st.lists(longitudes, min_size=len(lat2), max_size=len(lat2))))
    n = data.draw(st.integers(0, 40))
    first = np.array(data.draw(st.lists(st.integers(0, len(lat1) - 1), min_size=n, max_size=n)), dtype=np.intp)
    second = np.array(data.draw(st.lists(st.integers(0, len(lat2) - 1), min_size=n, max_size=n)), dtype=np.intp)
    a, b = np.array(lat1), np.array(lat2)
    want = great_circle_km(a[first], lon1[first], b[second], lon2[second])
    assert np.array_equal(paired_km(a, lon1, b, lon2, first, second), want)


def test_paired_km_at_a_million_pairs_is_bit_identical() -> None:
    # Long arrays take numpy's vectorised loops, short ones may not: compare where the optimizer works.
    rng = np.random.default_rng(3)
    lat1, lon1 = rng.uniform(-60, 70, 300), rng.uniform(-180, 180, 300)
    lat2, lon2 = rng.uniform(-60, 70, 5000), rng.uniform(-180, 180, 5000)
    first, second = rng.integers(0, 300, 1_000_003), rng.integers(0, 5000, 1_000_003)
    want = great_circle_km(lat1[first], lon1[first], lat2[second], lon2[second])
    assert np.array_equal(paired_km(lat1, lon1, lat2, lon2, first, second), want)
