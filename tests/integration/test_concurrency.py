"""Never twice, never lost: two runs at once, the API killed mid-run, and faulted responses.

The scenarios are those of ``benchmarks/resilience.py`` (which prints their table), against a
lab of this module's own with SQLite persistence, so that the killed lab keeps what it
committed. Each asserts what the product holds afterwards, read through the API: exactly one
object per declared name, and a next run that changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'benchmarks'))
from resilience import Lab, Resilience  # noqa: E402  pylint: disable=import-error,wrong-import-position

PRODUCTS = ['prisma', 'nsxt_policy', 'nsxt_manager', 'secure_workload', 'secure_workload_scopes']


@pytest.fixture(scope='module')
def own_lab(tmp_path_factory):
    workdir = tmp_path_factory.mktemp('resilience')
    lab = Lab(str(workdir))
    lab.start()
    try:
        yield lab, Resilience(lab.env, str(workdir))
    finally:
        lab.stop()


def assert_one_per_name(row):
    assert row['duplicates'] == 0, row
    assert row['objects'] == row['distinct'] == row['expected'], row


@pytest.mark.parametrize('product', PRODUCTS)
def test_two_concurrent_runs_leave_exactly_one_object_per_name(own_lab, product):
    dummy, bench = own_lab
    row, results = bench.concurrent(product, 100)
    for result in results:
        assert result[0] == 0, result[1][-4000:]
    assert_one_per_name(row)
    assert row['runs_needed'] == 1, row  # the next run of the declaration changes nothing


@pytest.mark.parametrize('product,count', [('prisma', 300), ('nsxt_policy', 100), ('nsxt_manager', 100), ('secure_workload', 100)])
def test_a_run_with_a_tenth_of_its_requests_faulted_converges_in_one_run(own_lab, product, count):
    dummy, bench = own_lab
    row, output = bench.faulted(product, count)
    assert row['rcs'] == [0], output[-4000:]
    # every 29th, 31st, 37th, 41st and 43rd request faulted: a tenth of a run of this size is well over 5 %
    # (NSX Policy: a list form is three requests, every other one faulted, the write's answer lost)
    assert row['faults'] >= (2 if product == 'nsxt_policy' else count // 20), row
    assert_one_per_name(row)
    assert row['runs_needed'] == 1, row


def test_five_runs_with_the_api_killed_and_restarted_mid_run_leave_no_duplicate(own_lab):
    lab, bench = own_lab
    rows, outputs = bench.killed(lab, trials=5, count=500)
    token = lab.env['PRISMA_TOKEN']
    for row, output in zip(rows, outputs, strict=True):
        assert row['rcs'] == [0], output[-4000:]
        assert_one_per_name(row)
        assert row['runs_needed'] == 1, row
        assert token not in output  # the first trial ran at -vvv
    assert '<localhost> ESTABLISH LOCAL CONNECTION' in outputs[0]
