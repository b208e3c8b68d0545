"""The package keeps the shape that lets the model grow: small functions with few parameters.

Measured on the source with :mod:`ast`: no function over 60 lines, except
compiled kernels (numba ``@njit``), which may have 80; no function outside the
command-line layer (``sim/cli``, where each option is a parameter) with more
than 8 parameters (``self`` and ``cls`` not counted).
"""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[2] / "sim"
MOST_LINES, MOST_KERNEL_LINES, MOST_PARAMETERS = 60, 80, 8


def _functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found = []
    for path in sorted(SIM.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((f"{path.relative_to(SIM.parent)}:{node.lineno} {node.name}", node))
    return found


def _compiled(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    names = {ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list}
    return bool(names & {"njit", "numba.njit", "jit", "numba.jit"})


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = node.args
    names = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    count = len(names) + (a.vararg is not None) + (a.kwarg is not None)
    return count - (names[:1] in (["self"], ["cls"]))


def test_no_function_is_longer_than_its_limit() -> None:
    too_long = []
    for where, node in _functions():
        lines = (node.end_lineno or node.lineno) - node.lineno + 1
        if lines > (MOST_KERNEL_LINES if _compiled(node) else MOST_LINES):
            too_long.append(f"{where}: {lines} lines")
    assert too_long == []


def test_no_function_outside_the_command_line_takes_more_than_eight_parameters() -> None:
    crowded = [
        f"{where}: {_parameters(node)} parameters"
        for where, node in _functions()
        if not where.startswith("sim/cli/") and _parameters(node) > MOST_PARAMETERS
    ]
    assert crowded == []
