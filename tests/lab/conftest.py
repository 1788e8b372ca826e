"""Fixtures for the lab tests: one lab per session (started with labctl), reset before each test."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

# the lab's own package, for the tests that use its classes directly (whichever file runs first)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))
from lab_helpers import PrismaClient, labctl, read_lab_json


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("lab")
    labctl("start", "--dir", str(state_dir))
    yield state_dir
    labctl("stop", "--dir", str(state_dir))


@pytest.fixture(scope="session")
def lab_info(lab_dir) -> dict:
    return read_lab_json(lab_dir)["prisma"]


@pytest.fixture
def api(lab_info) -> PrismaClient:
    client = PrismaClient(lab_info)
    reset = client.admin("POST", "/_lab/reset")
    assert reset.status_code == 200, reset.text
    return client


@pytest.fixture
def appcred_files(lab_info, tmp_path):
    with open(lab_info["app_credential"]) as handle:
        cred = json.load(handle)
    cert = tmp_path / "appcred-cert.pem"
    key = tmp_path / "appcred-key.pem"
    cert.write_bytes(base64.b64decode(cred["certificate"]))
    key.write_bytes(base64.b64decode(cred["certificateKey"]))
    return cred, str(cert), str(key)


# ---------------------------------------------------------------- NSX-T (same lab, its own port)


@pytest.fixture(scope="session")
def nsxt_info(lab_dir) -> dict:
    return read_lab_json(lab_dir)["nsxt"]


@pytest.fixture
def nsx(nsxt_info):
    from nsxt_helpers import NsxClient

    client = NsxClient(nsxt_info)
    reset = client.admin("POST", "/_lab/reset")
    assert reset.status_code == 200, reset.text
    return client


# ---------------------------------------------------------------- Cisco Secure Workload (same lab, its own port)


@pytest.fixture(scope="session")
def sw_info(lab_dir) -> dict:
    return read_lab_json(lab_dir)["secure_workload"]


@pytest.fixture
def sw(sw_info):
    from sw_helpers import SwClient

    client = SwClient(sw_info)
    reset = client.admin("POST", "/_lab/reset")
    assert reset.status_code == 200, reset.text
    return client
