"""The lab refuses the bad inputs of ../shared/reference/bad-inputs.md that reach the API (issue 12), with the
product's message where the reference documents one; the collection refuses them first
(tests/unit/plugins/modules/test_bad_inputs.py)."""

from __future__ import annotations

import pytest
from lab_helpers import VALID_BODIES, errors_of
from nsxt_helpers import DOMAIN, error_of as nsx_error_of, group_path
from sw_helpers import eq, error_of as sw_error_of, subnet

GROUPS = DOMAIN + "/groups"


# ---------------------------------------------------------------- Prisma (rows 7 and 8)


def test_row08_prisma_name_with_nul_is_refused(api):
    body = dict(VALID_BODIES["networkrulesetpolicies"], name="bad\x00name")
    response = api.post("/networkrulesetpolicies", body)
    assert response.status_code == 422, response.text
    [error] = errors_of(response)
    assert error["description"] == "Data 'bad\\x00name' of attribute 'name' must not contain control characters"
    assert error["data"] == {"attribute": "name"}


def test_row07_prisma_unicode_name_is_accepted(api):
    # the console takes any name of at most 256 characters (prisma-microseg-api.md, name: max 256 chars)
    name = "r\u00e9gle-\u65e5\u672c-\u202eevil"
    response = api.post("/networkrulesetpolicies", dict(VALID_BODIES["networkrulesetpolicies"], name=name))
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name


# ---------------------------------------------------------------- NSX Policy groups (rows 60, 61, 65, 69)


@pytest.mark.parametrize(
    "row, ip_addresses, fragment",
    [
        (60, ["10.0.0.9-10.0.0.1"], "'10.0.0.9-10.0.0.1' is not an IP address, range or CIDR"),
        (61, ["10.0.0.1-2001:db8::1"], "'10.0.0.1-2001:db8::1' is not an IP address, range or CIDR"),
        (65, ["2001:db8::%x" % i for i in range(1, 601)], "at most 500 IP addresses, MAC addresses, external IDs and paths are allowed in total, got 600"),
    ],
)
def test_nsx_group_ip_expressions_the_api_refuses(nsx, row, ip_addresses, fragment):
    error = nsx_error_of(nsx.patch(GROUPS + "/fz-grp", {"expression": [{"resource_type": "IPAddressExpression", "ip_addresses": ip_addresses}]}), 400)
    assert error["error_message"].startswith("Field level validation errors: {"), row
    assert fragment in error["error_message"], error["error_message"]
    nsx_error_of(nsx.get(GROUPS + "/fz-grp"), 404)


def test_row69_nsx_group_path_to_a_missing_group(nsx):
    error = nsx_error_of(nsx.put(GROUPS + "/fz-path", {"expression": [{"resource_type": "PathExpression", "paths": [group_path("no-such-group")]}]}), 400)
    assert error["error_code"] == 500012 and error["error_message"] == "The path=[%s] is invalid" % group_path("no-such-group")
    nsx_error_of(nsx.get(GROUPS + "/fz-path"), 404)


# ---------------------------------------------------------------- Secure Workload (rows 83, 86, 94, 95)


def test_row83_policy_priority_beyond_64_bits_is_refused(sw):
    root = sw.root()
    web = sw.scope("web", query=subnet("10.1.0.0/16"))
    db = sw.inventory_filter("db", root["id"], eq("host_name", "lab-db-1"))
    workspace = sw.workspace("shop", web["id"])
    path = "/applications/%s/policies" % workspace["id"]
    base = {"version": "v0", "policy_action": "ALLOW", "consumer_filter_id": web["id"], "provider_filter_id": db["id"]}
    assert "priority must be at most 9223372036854775807 (got 9223372036854775808)" in sw_error_of(sw.post(path, dict(base, priority=2**63)), 422)
    created = sw.ok(sw.post(path, dict(base, priority=2**63 - 1)))
    assert created["priority"] == 2**63 - 1
    assert "priority must be at most" in sw_error_of(sw.put("/policies/" + created["id"], {"priority": 2**63}), 422)


@pytest.mark.parametrize(
    "row, short_name, message",
    [
        (86, "", "short_name must not be empty"),
        (94, "n" * 1000, "short_name is longer than 256 characters"),
    ],
)
def test_scope_names_the_api_refuses(sw, row, short_name, message):
    root = sw.root()
    body = {"short_name": short_name, "parent_app_scope_id": root["id"], "short_query": subnet("10.0.0.0/8")}
    assert message in sw_error_of(sw.post("/app_scopes", body), 422), row


def test_row95_unicode_scope_name_is_accepted(sw):
    # short_name is a string of at most 256 characters (secure-workload-api.md, POST /openapi/v1/app_scopes)
    root = sw.root()
    created = sw.ok(
        sw.post("/app_scopes", {"short_name": "applications-\u00e9t\u00e9", "parent_app_scope_id": root["id"], "short_query": subnet("10.0.0.0/8")})
    )
    assert created["short_name"] == "applications-\u00e9t\u00e9"
