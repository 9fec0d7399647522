"""AHP (层次分析法): weights and consistency of a pairwise comparison matrix.

Weights are the normalised principal (Perron) eigenvector; CI = (λmax − n)/(n − 1),
CR = CI / RI with Saaty's random index. The *most inconsistent comparison* is the
pair (i, j) maximising |ln(a_ij · w_j / w_i)|: the judgment furthest, as a ratio,
from what the derived weights imply (w_i / w_j). It is the first one to revisit.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Saaty's random index for n = 1…10 (cli.md).
RANDOM_INDEX: tuple[float, ...] = (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49)
CR_LIMIT = 0.10
RECIPROCAL_RTOL = 1e-6


class AHPError(ValueError):
    """A matrix that cannot be used: not square, not positive, not reciprocal, unparsable."""


@dataclass(frozen=True)
class AHPResult:
    names: tuple[str, ...]
    weights: tuple[float, ...]
    lambda_max: float
    ci: float
    cr: float
    worst_pair: tuple[str, str] | None
    """The most inconsistent comparison (row name, column name); None for n ≤ 2."""
    worst_judged: float | None
    """a_ij as judged for worst_pair."""
    worst_implied: float | None
    """w_i / w_j, what the weights imply for worst_pair."""

    @property
    def consistent(self) -> bool:
        return self.cr < CR_LIMIT

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of `kefu ahp` (cli.md)."""
        return {
            "weights": dict(zip(self.names, self.weights, strict=True)),
            "lambda_max": self.lambda_max,
            "ci": self.ci,
            "cr": self.cr,
            "consistent": self.consistent,
        }

    def inconsistency_message(self) -> str:
        """Why a scheme refuses this matrix, naming the comparison to revisit."""
        msg = f"AHP matrix is inconsistent: CR = {self.cr:.3f} ≥ {CR_LIMIT:.2f}"
        if self.worst_pair is not None and self.worst_judged is not None:
            a, b = self.worst_pair
            msg += (
                f"; the most inconsistent comparison is {a} vs {b}: judged "
                f"{_fmt_judgment(self.worst_judged)}, while the other judgments imply "
                f"about {_fmt_judgment(self.worst_implied or 0.0)}"
            )
        return msg


def _fmt_judgment(x: float) -> str:
    # Saaty judgments below 1 read better as reciprocals (1/3, not 0.333).
    if x <= 0:
        return "0"
    if x < 1:
        return f"1/{1 / x:.3g}"
    return f"{x:.3g}"


def parse_cell(text: str) -> float:
    """A matrix cell: an integer, a decimal or a fraction such as ``1/3``."""
    s = text.strip()
    if not s:
        raise ValueError("empty cell")
    if "/" in s:
        num, _, den = s.partition("/")
        value = float(num.strip()) / float(den.strip())
    else:
        value = float(s)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def ahp(matrix: Sequence[Sequence[float]], names: Sequence[str] | None = None) -> AHPResult:
    """Weights, λmax, CI, CR and the most inconsistent comparison of a matrix.

    Raises AHPError for a matrix that is empty, not square, not positive or not
    reciprocal (a_ij · a_ji = 1 within a relative 1e-6, so the diagonal is 1).
    """
    n = len(matrix)
    labels = tuple(names) if names is not None else tuple(str(i + 1) for i in range(n))
    if n == 0:
        raise AHPError("AHP matrix is empty")
    if len(labels) != n:
        raise AHPError(f"AHP matrix has {n} rows but {len(labels)} names")
    for i, row in enumerate(matrix):
        if len(row) != n:
            raise AHPError(
                f"AHP matrix is not square: row {labels[i]} has {len(row)} values, expected {n}"
            )
    if n > len(RANDOM_INDEX):
        raise AHPError(
            f"AHP matrix has {n} elements; at most {len(RANDOM_INDEX)} can be compared "
            "(Saaty's random index table) — group them in two levels"
        )
    a = np.array([[float(x) for x in row] for row in matrix], dtype=float)
    for i in range(n):
        for j in range(n):
            if not (a[i, j] > 0) or not math.isfinite(a[i, j]):
                raise AHPError(
                    f"AHP matrix is not positive: {labels[i]} vs {labels[j]} is {a[i, j]:g}"
                )
    for i in range(n):
        for j in range(i, n):
            expected = 1.0 / a[j, i]
            if abs(a[i, j] - expected) > RECIPROCAL_RTOL * max(abs(a[i, j]), abs(expected)):
                where = "diagonal cell" if i == j else "cells"
                raise AHPError(
                    f"AHP matrix is not reciprocal: {where} {labels[i]} vs {labels[j]} = "
                    f"{a[i, j]:g} but {labels[j]} vs {labels[i]} = {a[j, i]:g} "
                    f"(expected {expected:g})"
                )
    values, vectors = np.linalg.eig(a)
    # Perron root: the eigenvalue of largest real part is real and simple for a positive matrix.
    k = int(np.argmax(values.real))
    lam = float(values[k].real)
    vec = np.abs(vectors[:, k].real)
    w = vec / vec.sum()
    if n <= 2:
        ci = cr = 0.0
        lam = float(n)  # exact for a reciprocal 2×2; avoids printing 2.0000000000000004
    else:
        ci = (lam - n) / (n - 1)
        cr = ci / RANDOM_INDEX[n - 1]
    worst: tuple[str, str] | None = None
    judged = implied = None
    if n > 2:
        best = -1.0
        for i in range(n):
            for j in range(i + 1, n):
                dev = abs(math.log(a[i, j] * w[j] / w[i]))
                if dev > best + 1e-12:
                    best, worst = dev, (labels[i], labels[j])
                    judged, implied = float(a[i, j]), float(w[i] / w[j])
    return AHPResult(
        names=labels,
        weights=tuple(float(x) for x in w),
        lambda_max=lam,
        ci=float(ci),
        cr=float(cr),
        worst_pair=worst,
        worst_judged=judged,
        worst_implied=implied,
    )


def parse_matrix_rows(rows: Sequence[Sequence[str]]) -> tuple[list[str], list[list[float]]]:
    """Names and values of a CSV-style matrix: header row, first column of the same names."""
    rows = [list(r) for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise AHPError("AHP matrix is empty")
    header = [c.strip() for c in rows[0][1:]]
    while header and not header[-1]:
        header.pop()  # trailing separators
    body = rows[1:]
    if not header:
        raise AHPError("AHP matrix has no column names in its header row")
    if len(set(header)) != len(header):
        raise AHPError(f"AHP matrix has duplicate names in its header: {header}")
    if len(body) != len(header):
        raise AHPError(f"AHP matrix is not square: {len(header)} columns but {len(body)} rows")
    values: list[list[float]] = []
    for r, row in enumerate(body):
        name = row[0].strip() if row else ""
        if name != header[r]:
            raise AHPError(
                f"AHP matrix row {r + 2} is named {name!r}; the first column must repeat the "
                f"header names in the same order (expected {header[r]!r})"
            )
        cells = [c for c in row[1:]]
        while len(cells) > len(header) and not cells[-1].strip():
            cells.pop()
        if len(cells) != len(header):
            raise AHPError(
                f"AHP matrix is not square: row {name} has {len(cells)} values, "
                f"expected {len(header)}"
            )
        parsed: list[float] = []
        for c, cell in enumerate(cells):
            try:
                parsed.append(parse_cell(cell))
            except (ValueError, ZeroDivisionError):
                raise AHPError(
                    f"AHP matrix cell {name} vs {header[c]} is {cell!r}, not a number "
                    "(use e.g. 3, 0.5 or 1/3)"
                ) from None
        values.append(parsed)
    return header, values


def ahp_from_csv(path: Path) -> dict[str, Any]:
    """`kefu ahp`: read a CSV matrix (UTF-8, BOM accepted) and return the cli.md object."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AHPError(f"{path}: not UTF-8 text") from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise AHPError(f"{path}: not a CSV file ({exc})") from None
    names, values = parse_matrix_rows(rows)
    return ahp(values, names).as_dict()
