# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Observed flows: the window option, and rows of the flow statistics merged into flows between endpoints."""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.flows import Policy
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.kinds import NAMESPACE
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.lockdown import GUARDED_NAMESPACE
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.observed import check_window, observed_flows


@pytest.mark.parametrize("window", ["7d", "36h", "90m", "1w", "1d12h"])
def test_windows_the_statistics_take(window):
    assert check_window(window) == window


@pytest.mark.parametrize("window", ["", "7", "a week", "-7d", "7 d", "7y"])
def test_other_windows_are_refused_naming_the_option(window):
    with pytest.raises(ValidationError, match=r"^lockdown_guard.window: "):
        check_window(window, "lockdown_guard.window")


def test_the_guard_window_is_checked_before_any_request():
    with pytest.raises(ValidationError, match=r"^items\[0\]\.lockdown_guard\.window: 'soon' is not a window"):
        GUARDED_NAMESPACE.build({"name": "shop", "discovery_mode": False, "lockdown_guard": {"window": "soon"}}, "items[0].", None)


def test_the_guarded_namespace_kind_builds_what_the_plain_one_does_and_checks_names_first():
    values = {"name": "shop", "discovery_mode": False, "tag_prefixes": ["team"], "lockdown_guard": {"window": "2d"}}
    assert GUARDED_NAMESPACE.build(values, "", None) == NAMESPACE.build(values, "", None) == {
        "defaultPUIncomingTrafficAction": "Reject", "defaultPUOutgoingTrafficAction": "Reject", "tagPrefixes": ["team"]}
    with pytest.raises(ValidationError, match=r"^items\[1\]\.name: 'bad name' is not a valid namespace name"):
        GUARDED_NAMESPACE.build({"name": "bad name", "lockdown_guard": {"window": "soon"}}, "items[1].", None)


class StatsConnection:
    """Answers the grouped flow query with the rows given, a page at a time."""

    def __init__(self, rows):
        self.rows = rows
        self.requests = []

    def request(self, method, path, namespace=None, params=None, body=None):
        self.requests.append((method, path, namespace, params, body["limit"], body["offset"]))
        page = self.rows[body["offset"]:body["offset"] + body["limit"]]
        return {"results": [{"rows": page}]}


def row(src, dst, port, count, seen, src_ip="10.0.0.1", dst_type="ProcessingUnit"):
    tags = {"sourceType": "ProcessingUnit", "sourceID": src, "sourceIP": src_ip, "sourceNamespace": "/a",
            "destinationType": dst_type, "destinationID": dst, "destinationIP": "10.0.0.9", "destinationNamespace": "/a",
            "destinationPort": str(port), "protocol": "6", "action": "Accept", "observedAction": "Accept"}
    return {"name": "Flows", "tags": tags, "columns": ["time", "count", "lastSeen"], "values": [["t0", count, seen]]}


def test_replicas_merge_counts_add_up_and_the_latest_sighting_is_kept():
    policy = Policy(
        namespaces=[{"name": "/a", "tagPrefixes": ["app="]}],
        processing_units=[{"ID": "w1", "name": "web-1", "namespace": "/a", "associatedTags": ["app=web"]},
                          {"ID": "w2", "name": "web-2", "namespace": "/a", "associatedTags": ["app=web"]},
                          {"ID": "d1", "name": "db-1", "namespace": "/a", "associatedTags": ["app=db"]}])
    rows = [row("w1", "d1", 5432, 10, "2026-12-01T00:00:00Z"), row("w2", "d1", 5432, 5, "2026-12-02T00:00:00Z", src_ip="10.0.0.2"),
            row("w1", "8.8.8.8", 53, 7, "2026-12-01T00:00:00Z", dst_type="Address")]
    connection = StatsConnection(rows)
    flows = observed_flows(connection, "/a", policy, "7d", page_size=2)
    assert [(f["source"]["tags"], f["destination"], f["service"], f["count"], f["last_seen"]) for f in flows] == [
        (["app=web"], {"type": "processing_unit", "namespace": "/a", "tags": ["app=db"]}, "tcp/5432", 15, "2026-12-02T00:00:00Z"),
        (["app=web"], {"type": "address", "address": "10.0.0.9"}, "tcp/53", 7, "2026-12-01T00:00:00Z"),
    ]
    # two pages of two rows: the second, short, ends the read
    assert [(r[4], r[5]) for r in connection.requests] == [(2, 0), (2, 2)]
    assert connection.requests[0][3] == {"startRelative": "7d"}
