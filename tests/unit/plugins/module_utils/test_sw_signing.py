# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure Workload request signing against the published test vector, and on a real prepared request."""

import requests

from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.signing import (
    Signer,
    checksum,
    signature,
    string_to_sign,
    timestamp,
)

STAMP = "2020-04-21T18:23:37+0000"


def test_published_vector():
    assert signature("X" * 40, "GET", "/openapi/v1/app_scopes", "", "application/json", STAMP) == "uTixNCblmmldnLBADYcuzfxU/LHy3a2RM3jLrQwxFtc="


def test_published_checksums():
    body = '{"Name":"Alice","Body":"Hello","Time":1294706395881547000}'
    assert checksum("POST", body).startswith("feb73c8c") and checksum("POST", body).endswith("3899")
    assert checksum("POST", body + "\n").startswith("aa38a646") and checksum("POST", body + "\n").endswith("430b")


def test_checksum_only_for_bodies_of_writes():
    assert checksum("GET", b"{}") == ""
    assert checksum("POST", b"") == ""
    assert checksum("DELETE", b"{}") != ""


def test_string_to_sign_has_five_terminated_lines():
    assert string_to_sign("get", "/openapi/v1/x?a=1", "", "application/json", STAMP) == "GET\n/openapi/v1/x?a=1\n\napplication/json\n%s\n" % STAMP


def test_timestamp_format():
    assert timestamp(1587493417) == STAMP


def test_signer_signs_the_exact_prepared_request():
    prepared = requests.Request("POST", "https://127.0.0.1:1/openapi/v1/app_scopes", params={"root_app_scope_id": "abc"},
                                data=b'{"short_name": "web"}', headers={"Content-Type": "application/json"}).prepare()
    Signer("k" * 32, "X" * 40, clock=lambda: 1587493417)(prepared)
    assert prepared.headers["Id"] == "k" * 32
    assert prepared.headers["Timestamp"] == STAMP
    assert prepared.headers["X-Tetration-Cksum"] == checksum("POST", b'{"short_name": "web"}')
    expected = signature("X" * 40, "POST", "/openapi/v1/app_scopes?root_app_scope_id=abc", prepared.headers["X-Tetration-Cksum"],
                         "application/json", STAMP)
    assert prepared.headers["Authorization"] == expected
