"""PostgreSQL stopped and started under SDK traffic (issue 10, items 1-3): flags served from
memory throughout (also right after a change), identity requests answered within a second
(served from the kept answer, or 503 with Retry-After), readiness 503 once the view is stale,
and every worker current again within a couple of seconds of the database's return."""

from __future__ import annotations

import time

from tests.resilience.cluster import ScratchCluster
from tests.resilience.conftest import MAX_STALENESS_SECONDS, Served, call

READS = 30  # new connections each, so both workers answer some
RECOVERY_SECONDS = 3.0  # target 2 s (docs/reliability.md); margin for a loaded CI machine


def _all_flags(served: Served) -> list[tuple[int, dict[str, object] | None]]:
    replies = [served.flags() for _ in range(READS)]
    return [(r.status, served.values(r) if r.status == 200 else None) for r in replies]


def _wait_all_current(served: Served, feature: str, value: str, timeout: float) -> float:
    """Seconds until READS reads in a row all serve ``value``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if all(values and values[feature] == value for _, values in _all_flags(served)):
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not every worker served {feature}={value} within {timeout}s")


def test_postgres_outage__sdk_serves_from_memory_and_recovers(
    served: Served, cluster: ScratchCluster
) -> None:
    # Given: both workers serve the environment, a change was made a second before the outage,
    # and an identity was answered since
    _wait_all_current(served, "banner", "v0", timeout=10)
    served.set_value("banner", "v1")
    _wait_all_current(served, "banner", "v1", timeout=2)
    kept = [served.identify("kept") for _ in range(READS)]
    assert {r.status for r in kept} == {200}

    # When: the database stops
    cluster.stop()
    try:
        outage_started = time.monotonic()
        flags = _all_flags(served)
        known = [served.identify("kept") for _ in range(READS)]
        unknown = [served.identify(f"new-{i}") for i in range(10)]
        while time.monotonic() - outage_started < MAX_STALENESS_SECONDS + 1:
            time.sleep(0.2)
        readiness = call(served.url + "/health/readiness/")
        flags_later = _all_flags(served)
    finally:
        cluster.start()

    # Then: flags served, and the changed value, throughout
    assert flags == [(200, {"banner": "v1", "limit": "v0", "theme": "v0"})] * READS
    assert flags_later == flags
    # an identity answered before is answered again (by the worker that kept it), every other
    # identify request fails fast with 503 and Retry-After
    answered = [r for r in known if r.status == 200]
    assert answered, [r.status for r in known]
    assert all(r.body == kept[0].body for r in answered if r.body["identifier"] == "kept")
    for reply in [*known, *unknown]:
        assert reply.status in (200, 503), reply.body
        assert reply.seconds < 1.5, reply.seconds
        if reply.status == 503:
            assert reply.headers["retry-after"] == "1"
            assert reply.body["code"] == "service_unavailable"
    assert {r.status for r in unknown} == {503}
    # readiness names the stale view
    assert readiness.status == 503
    assert readiness.body["checks"]["sdk_view"]["status"] == "error"
    assert "s old" in readiness.body["checks"]["sdk_view"]["reason"]

    # When: the database is back and the flag changes again
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and call(served.url + "/health/readiness/").status != 200:
        time.sleep(0.1)
    served.set_value("banner", "v2")
    # Then: every worker serves it within the recovery bound, and answers identities again
    assert _wait_all_current(served, "banner", "v2", timeout=RECOVERY_SECONDS) < RECOVERY_SECONDS
    assert {served.identify(f"after-{i}").status for i in range(10)} == {200}
    assert call(served.url + "/health/readiness/").status == 200
    # The outage is logged once per worker (and its end), not on every poll
    log = served.log.read_text()
    assert 1 <= log.count("Refreshing the SDK key index failed") <= 2, log[-4000:]
    assert "current again" in log
