"""Confidence intervals for proportions: Wilson's score interval, Newcombe's hybrid score
interval for a difference of two independent proportions, and the MOVER interval for a
difference of two such differences (docs/definitions.md, "WFA impact").

Pure functions, no Flask, no database.

References:
- E. B. Wilson (1927), "Probable inference, the law of succession, and statistical
  inference", J. Amer. Statist. Assoc. 22: 209–212.
- R. G. Newcombe (1998), "Interval estimation for the difference between independent
  proportions: comparison of eleven methods", Statistics in Medicine 17: 873–890, method 10
  (the hybrid score interval, without continuity correction).
- G. Y. Zou and A. Donner (2008), "Construction of confidence limits about effect measures:
  a general approach", Statistics in Medicine 27: 1693–1702 (MOVER: the method of variance
  estimates recovery).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The two-sided 95 % normal quantile docs/definitions.md fixes (not 1.96).
Z_95 = 1.959964


@dataclass(frozen=True)
class Interval:
    """A point estimate with the bounds of its confidence interval."""

    estimate: float
    low: float
    high: float


def wilson_interval(successes: int, n: int, z: float = Z_95) -> Interval:
    """Return Wilson's score interval for a proportion successes / n.

    With p = x/n, the bounds are the two roots of |p − π| = z·sqrt(π(1−π)/n):

        (2np + z² ± z·sqrt(z² + 4np(1−p))) / (2(n + z²))

    It stays inside [0, 1] and is sound at x = 0 and x = n, where the Wald interval
    collapses to a point. Raises ValueError unless 0 <= successes <= n and n > 0.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    centre = 2 * n * p + z2
    spread = z * math.sqrt(z2 + 4 * n * p * (1 - p))
    denominator = 2 * (n + z2)
    low = (centre - spread) / denominator
    high = (centre + spread) / denominator
    # The exact bounds at x = 0 and x = n; rounding must not leave 1e-17 outside [0, 1].
    if successes == 0:
        low = 0.0
    if successes == n:
        high = 1.0
    return Interval(p, max(0.0, low), min(1.0, high))


def newcombe_difference_interval(
    successes_1: int, n_1: int, successes_2: int, n_2: int, z: float = Z_95
) -> Interval:
    """Return p1 − p2 with Newcombe's hybrid score interval (1998, method 10).

    With (l1, u1) and (l2, u2) the Wilson intervals of p1 = x1/n1 and p2 = x2/n2:

        low  = (p1 − p2) − sqrt((p1 − l1)² + (u2 − p2)²)
        high = (p1 − p2) + sqrt((u1 − p1)² + (p2 − l2)²)

    Newcombe's example: 56/70 against 48/80 gives 0.2000, 95 % CI 0.0524 to 0.3339.
    """
    first = wilson_interval(successes_1, n_1, z)
    second = wilson_interval(successes_2, n_2, z)
    difference = first.estimate - second.estimate
    low = difference - math.sqrt(
        (first.estimate - first.low) ** 2 + (second.high - second.estimate) ** 2
    )
    high = difference + math.sqrt(
        (first.high - first.estimate) ** 2 + (second.estimate - second.low) ** 2
    )
    return Interval(difference, max(-1.0, low), min(1.0, high))


def mover_difference_interval(first: Interval, second: Interval) -> Interval:
    """Return first − second with the MOVER interval (Zou & Donner 2008) of two estimates.

    With d1 (l1, u1) and d2 (l2, u2) two independent estimates and their intervals:

        low  = (d1 − d2) − sqrt((d1 − l1)² + (u2 − d2)²)
        high = (d1 − d2) + sqrt((u1 − d1)² + (d2 − l2)²)

    Newcombe's interval is this rule applied to two Wilson intervals; here it subtracts a
    comparison group's change (d2) from a service's own change (d1). Differences of two
    proportions lie in [−1, 1], so theirs lies in [−2, 2].
    """
    difference = first.estimate - second.estimate
    low = difference - math.sqrt(
        (first.estimate - first.low) ** 2 + (second.high - second.estimate) ** 2
    )
    high = difference + math.sqrt(
        (first.high - first.estimate) ** 2 + (second.estimate - second.low) ** 2
    )
    return Interval(difference, max(-2.0, low), min(2.0, high))
