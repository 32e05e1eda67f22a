"""The hostile-input corpus (:mod:`tests.robustness.cases`), each case's exact outcome.

All cases run in one capped subprocess (:mod:`tests.robustness.runner`: a memory cap
for the process, a timer per case); each is then its own test.
"""

from __future__ import annotations

import pytest

from .batch import check, run
from .cases import all_cases

CASES = all_cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    return folder, run(CASES, folder)


def test_the_corpus_is_large_and_its_ids_unique():
    assert len(CASES) >= 300
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(results, case):
    folder, outcomes = results
    check(case, outcomes[case.id], folder)
