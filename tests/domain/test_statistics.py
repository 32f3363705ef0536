"""Wilson and Newcombe intervals against published and hand-computed values."""

from __future__ import annotations

import math

import pytest

from portal.domain.statistics import (
    Z_95,
    Interval,
    mover_difference_interval,
    newcombe_difference_interval,
    wilson_interval,
)


def test_z_is_the_value_domain_md_fixes():
    assert Z_95 == 1.959964


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        # Newcombe (1998a), single proportions, Wilson score method without correction.
        pytest.param(81, 263, 0.2553, 0.3662, id="81-of-263"),
        pytest.param(15, 148, 0.0624, 0.1605, id="15-of-148"),
        pytest.param(0, 20, 0.0, 0.1611, id="0-of-20"),
        pytest.param(1, 29, 0.0061, 0.1718, id="1-of-29"),
        pytest.param(0, 10, 0.0, 0.2775, id="0-of-10"),
        pytest.param(10, 10, 0.7225, 1.0, id="10-of-10"),
    ],
)
def test_wilson_interval_matches_published_values(x, n, low, high):
    interval = wilson_interval(x, n)
    assert round(interval.low, 4) == low
    assert round(interval.high, 4) == high


def test_wilson_interval_by_hand_for_half_of_four():
    # p = 0.5, n = 4: (4 + z² ± z·sqrt(z² + 4)) / (2(4 + z²)).
    z2 = Z_95**2
    expected_low = (4 + z2 - Z_95 * math.sqrt(z2 + 4)) / (2 * (4 + z2))
    interval = wilson_interval(2, 4)
    assert interval.estimate == 0.5
    assert interval.low == pytest.approx(expected_low, abs=1e-12)
    assert interval.high == pytest.approx(1 - expected_low, abs=1e-12)


@pytest.mark.parametrize(("x", "n"), [(0, 0), (-1, 5), (6, 5)])
def test_wilson_interval_refuses_impossible_counts(x, n):
    with pytest.raises(ValueError):
        wilson_interval(x, n)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "difference", "low", "high"),
    [
        # Newcombe (1998b), Table II, method 10.
        pytest.param(56, 70, 48, 80, 0.2000, 0.0524, 0.3339, id="56/70-vs-48/80"),
        pytest.param(9, 10, 3, 10, 0.6000, 0.1705, 0.8090, id="9/10-vs-3/10"),
        pytest.param(5, 56, 0, 29, 0.0893, -0.0381, 0.1926, id="5/56-vs-0/29"),
        pytest.param(0, 10, 0, 20, 0.0, -0.1611, 0.2775, id="0/10-vs-0/20"),
        pytest.param(0, 10, 0, 10, 0.0, -0.2775, 0.2775, id="0/10-vs-0/10"),
        pytest.param(10, 10, 0, 20, 1.0, 0.6791, 1.0, id="10/10-vs-0/20"),
        pytest.param(10, 10, 0, 10, 1.0, 0.6075, 1.0, id="10/10-vs-0/10"),
    ],
)
def test_newcombe_interval_matches_the_paper(x1, n1, x2, n2, difference, low, high):
    interval = newcombe_difference_interval(x1, n1, x2, n2)
    assert round(interval.estimate, 4) == difference
    assert round(interval.low, 4) == low
    assert round(interval.high, 4) == high


def test_newcombe_interval_is_built_from_the_two_wilson_intervals():
    first, second = wilson_interval(56, 70), wilson_interval(48, 80)
    interval = newcombe_difference_interval(56, 70, 48, 80)
    assert interval.low == pytest.approx(
        0.2 - math.hypot(0.8 - first.low, second.high - 0.6), abs=1e-12)
    assert interval.high == pytest.approx(
        0.2 + math.hypot(first.high - 0.8, 0.6 - second.low), abs=1e-12)


def test_equal_proportions_give_a_symmetric_interval_around_zero():
    interval = newcombe_difference_interval(45, 50, 45, 50)
    assert interval.estimate == 0.0
    assert interval.low == pytest.approx(-interval.high, abs=1e-12)
    assert interval.low < 0 < interval.high


def test_swapping_the_groups_mirrors_the_interval():
    forward = newcombe_difference_interval(30, 40, 50, 55)
    backward = newcombe_difference_interval(50, 55, 30, 40)
    assert forward.estimate == pytest.approx(-backward.estimate)
    assert forward.low == pytest.approx(-backward.high)
    assert forward.high == pytest.approx(-backward.low)


def test_newcombe_interval_by_hand_for_170_of_200_against_190_of_200():
    # z² = 3.841459. Wilson, 170/200 (p = 0.85): centre 2·200·0.85 + z² = 343.841459, spread
    # z·√(z² + 4·200·0.85·0.15) = 1.959964·√105.841459 = 20.163968, denominator
    # 2·(200 + z²) = 407.682918: (0.793944, 0.892864). 190/200 (p = 0.95): centre 383.841459,
    # spread 1.959964·√41.841459 = 12.678258: (0.910422, 0.972617).
    # low = −0.1 − √((0.85 − 0.793944)² + (0.972617 − 0.95)²) = −0.1 − √(0.003142 + 0.000512)
    #     = −0.1604; high = −0.1 + √((0.892864 − 0.85)² + (0.95 − 0.910422)²)
    #     = −0.1 + √(0.001837 + 0.001566) = −0.0417.
    interval = newcombe_difference_interval(170, 200, 190, 200)
    assert interval.estimate == pytest.approx(-0.1)
    assert (round(interval.low, 4), round(interval.high, 4)) == (-0.1604, -0.0417)


def test_mover_interval_by_hand_for_the_net_difference():
    # d1 = −0.1 (−0.1604, −0.0417) as above; d2 = 870/1000 − 950/1000 = −0.08 (−0.1052,
    # −0.0553). Net −0.02:
    # low  = −0.02 − √((d1 − l1)² + (u2 − d2)²) = −0.02 − √(0.0604² + 0.0247²)
    #      = −0.02 − 0.0653 = −0.0853;
    # high = −0.02 + √((u1 − d1)² + (d2 − l2)²) = −0.02 + √(0.0583² + 0.0252²)
    #      = −0.02 + 0.0636 = +0.0436.
    first = newcombe_difference_interval(170, 200, 190, 200)
    second = newcombe_difference_interval(870, 1000, 950, 1000)
    assert (round(second.low, 4), round(second.high, 4)) == (-0.1052, -0.0553)
    net = mover_difference_interval(first, second)
    assert net.estimate == pytest.approx(-0.02)
    assert (round(net.low, 4), round(net.high, 4)) == (-0.0853, 0.0436)


def test_mover_interval_takes_the_lower_arm_of_one_and_the_upper_arm_of_the_other():
    # Asymmetric arms: d1 = 0.1 (0.0, 0.3), d2 = 0.2 (0.15, 0.6). Net −0.1:
    # low = −0.1 − √(0.1² + 0.4²) = −0.1 − 0.412311 = −0.512311;
    # high = −0.1 + √(0.2² + 0.05²) = −0.1 + 0.206155 = 0.106155.
    net = mover_difference_interval(Interval(0.1, 0.0, 0.3), Interval(0.2, 0.15, 0.6))
    assert net.low == pytest.approx(-0.512311, abs=1e-6)
    assert net.high == pytest.approx(0.106155, abs=1e-6)
