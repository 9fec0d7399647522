"""AHP against published examples and the `kefu ahp` CSV contract (cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.scoring.ahp import AHPError, ahp, ahp_from_csv

# Saaty, T. L. (1980) The Analytic Hierarchy Process, McGraw-Hill, §2-4 "Wealth of
# nations through their world influence" (also Saaty & Khouja 1976). Order: US, USSR,
# China, France, UK, Japan, West Germany. Published eigenvector .427 .230 .021 .052 .052
# .123 .094 and λmax = 7.61 (so CI = 0.10, CR = 0.10/1.32 = 0.08).
WEALTH = [
    [1, 4, 9, 6, 6, 5, 5],
    [1 / 4, 1, 7, 5, 5, 3, 4],
    [1 / 9, 1 / 7, 1, 1 / 5, 1 / 5, 1 / 7, 1 / 5],
    [1 / 6, 1 / 5, 5, 1, 1, 1 / 3, 1 / 3],
    [1 / 6, 1 / 5, 5, 1, 1, 1 / 3, 1 / 3],
    [1 / 5, 1 / 3, 7, 3, 3, 1, 2],
    [1 / 5, 1 / 4, 5, 3, 3, 1 / 2, 1],
]
WEALTH_W = [0.427, 0.230, 0.021, 0.052, 0.052, 0.123, 0.094]

# Saaty (1980) §2-3 "Illumination intensity and the inverse square law": relative
# brightness of four chairs judged by an observer. Published eigenvector 0.61 0.24 0.10
# 0.05 (two decimals) and λmax = 4.39 (CI = 0.13, CR = 0.13/0.90 = 0.14).
LIGHT = [
    [1, 5, 6, 7],
    [1 / 5, 1, 4, 6],
    [1 / 6, 1 / 4, 1, 4],
    [1 / 7, 1 / 6, 1 / 4, 1],
]


def test_wealth_of_nations_matches_published_weights_and_lambda() -> None:
    r = ahp(WEALTH)
    assert r.weights == pytest.approx(WEALTH_W, abs=0.0005)
    assert r.lambda_max == pytest.approx(7.61, abs=0.005)
    assert r.ci == pytest.approx(0.10, abs=0.005)
    assert r.cr == pytest.approx(0.08, abs=0.005)
    assert r.consistent


def test_illumination_matches_published_lambda_and_cr() -> None:
    r = ahp(LIGHT)
    # published to two decimals; 0.619 is printed as .61 in the book, hence abs=0.01
    assert r.weights == pytest.approx([0.61, 0.24, 0.10, 0.05], abs=0.01)
    assert r.lambda_max == pytest.approx(4.39, abs=0.005)
    assert r.ci == pytest.approx(0.13, abs=0.005)
    assert r.cr == pytest.approx(0.14, abs=0.005)
    assert not r.consistent  # CR ≥ 0.10: a scheme would refuse it


def test_consistent_matrix_has_exact_weights_and_cr_zero() -> None:
    # w = (4, 2, 1)/7 gives a_ij = w_i/w_j exactly; λmax = n, CI = CR = 0
    r = ahp([[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]])
    assert r.weights == pytest.approx([4 / 7, 2 / 7, 1 / 7])
    assert r.lambda_max == pytest.approx(3)
    assert r.cr == pytest.approx(0, abs=1e-12)


def test_two_by_two_has_cr_zero() -> None:
    r = ahp([[1, 3], [1 / 3, 1]])
    assert r.weights == pytest.approx([0.75, 0.25])
    assert r.cr == 0 and r.ci == 0 and r.lambda_max == 2


def test_most_inconsistent_comparison_is_named() -> None:
    # a consistent 4×4 (w = 8:4:2:1) with one judgment reversed: d vs a says 8 instead of 1/8
    m = [[1, 2, 4, 1 / 8], [1 / 2, 1, 2, 4], [1 / 4, 1 / 2, 1, 2], [8, 1 / 4, 1 / 2, 1]]
    r = ahp(m, ["a", "b", "c", "d"])
    assert r.worst_pair == ("a", "d")
    assert "a vs d" in r.inconsistency_message()


def write(tmp_path: Path, text: str, bom: bool = False) -> Path:
    p = tmp_path / "m.csv"
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return p


def test_csv_with_bom_fractions_decimals_and_ignored_corner(tmp_path: Path) -> None:
    p = write(
        tmp_path, "准则,质量,销售,满意\n质量,1,1/2,0.25\n销售,2,1,1/2\n满意,4,2,1\n", bom=True
    )
    out = ahp_from_csv(p)
    assert list(out["weights"]) == ["质量", "销售", "满意"]
    assert list(out["weights"].values()) == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    assert out["cr"] == pytest.approx(0, abs=1e-12)
    assert out["consistent"] is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (",a,b\na,1,2\n", "not square"),
        (",a,b,c\na,1,2,3\nb,1/2,1,1\nc,1/3,1\n", "not square"),
        (",a,b\na,1,-2\nb,-1/2,1\n", "not positive"),
        (",a,b\na,1,0\nb,1,1\n", "not positive"),
        (",a,b\na,1,3\nb,0.5,1\n", "not reciprocal"),
        (",a,b\na,2,2\nb,0.5,1\n", "not reciprocal"),
        (",a,b\na,1,x\nb,1,1\n", "not a number"),
        (",a,b\na,1,1/0\nb,1,1\n", "not a number"),
    ],
)
def test_bad_matrices_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(AHPError, match=message):
        ahp_from_csv(write(tmp_path, text))


def test_reciprocal_tolerance_is_relative_1e_6(tmp_path: Path) -> None:
    ok = ahp_from_csv(write(tmp_path, ",a,b\na,1,3\nb,0.3333333333,1\n"))
    assert ok["weights"]["a"] == pytest.approx(0.75)
    with pytest.raises(AHPError, match="not reciprocal"):
        ahp_from_csv(write(tmp_path, ",a,b\na,1,3\nb,0.3333,1\n"))


def test_cli_ahp_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    light = write(
        tmp_path, ",c1,c2,c3,c4\nc1,1,5,6,7\nc2,1/5,1,4,6\nc3,1/6,1/4,1,4\nc4,1/7,1/6,1/4,1\n"
    )
    res = runner.invoke(app, ["ahp", str(light)])
    assert res.exit_code == 0  # inconsistent still exits 0
    data = json.loads(res.stdout)
    assert set(data) == {"weights", "lambda_max", "ci", "cr", "consistent"}
    assert data["consistent"] is False
    bad = write(tmp_path, ",a,b\na,1,3\nb,3,1\n")
    res = runner.invoke(app, ["ahp", str(bad)])
    assert res.exit_code == 2
