"""The cached SemVer precedence tuples order exactly like the `semver` library."""

from __future__ import annotations

import semver
from hypothesis import given
from hypothesis import strategies as st

from vexil.engine.operators import parse_semver

identifiers = st.sampled_from(["0", "1", "2", "10", "alpha", "beta", "rc", "a-1", "x"])
prereleases = st.none() | st.lists(identifiers, min_size=1, max_size=3).map(".".join)
versions = st.builds(
    lambda major, minor, patch, pre, build: (
        f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else "") + (f"+{build}" if build else "")
    ),
    st.integers(0, 3),
    st.integers(0, 12),
    st.integers(0, 3),
    prereleases,
    st.none() | st.sampled_from(["b1", "001", "exp.sha"]),
)


@given(left=versions, right=versions)
def test_parse_semver__two_versions__precedence_orders_like_semver_compare(
    left: str, right: str
) -> None:
    # Given
    parsed_left, parsed_right = parse_semver(left), parse_semver(right)
    assert parsed_left is not None
    assert parsed_right is not None

    # When
    ours = (parsed_left.precedence > parsed_right.precedence) - (
        parsed_left.precedence < parsed_right.precedence
    )

    # Then
    assert ours == semver.Version.parse(left).compare(right)


def test_parse_semver__not_strict_semver__is_none() -> None:
    assert [parse_semver(text) for text in ["1.2", "v1.2.3", "1.2.3\n", "01.2.3"]] == [None] * 4
