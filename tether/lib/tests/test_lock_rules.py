"""The lock rules (docs/ARCHITECTURE.md, "Locks") hold in every module.

Every ``select_for_update()`` states its strength with ``no_key=``: the usual
``FOR NO KEY UPDATE`` (``no_key=True``) does not block the inserts that name the locked
row (an audit event, a message), while a plain ``FOR UPDATE`` does, which is how a
patient's urgent request once deadlocked with chart loads. And one that is combined
with ``select_related()`` says ``of=`` which rows it locks, so joined rows (the
organization, the program) are never locked by accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tether

ROOT = Path(tether.__file__).parent


def _sources() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]


def _chain_root(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    """The whole method chain a call belongs to (``Model.objects.a().b().c()``)."""
    while isinstance(parents.get(node), ast.Attribute | ast.Call):
        node = parents[node]
    return node


def _lock_calls(path: Path) -> list[tuple[int, set[str], bool]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "select_for_update"
        ):
            chain = _chain_root(node, parents)
            joins = any(
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "select_related"
                for call in ast.walk(chain)
            )
            found.append((node.lineno, {kw.arg or "" for kw in node.keywords}, joins))
    return found


def test_every_row_lock_states_its_strength_and_what_it_locks():
    problems = []
    checked = 0
    for path in _sources():
        for line, keywords, joins in _lock_calls(path):
            checked += 1
            where = f"{path.relative_to(ROOT.parent)}:{line}"
            if "no_key" not in keywords:
                problems.append(f"{where}: select_for_update() without no_key=")
            if joins and "of" not in keywords:
                problems.append(f"{where}: select_for_update() with select_related() without of=")
    assert checked >= 15, "the walk found too few locks: is it looking in the right place?"
    assert not problems, "\n".join(problems)


def test_it_catches_a_lock_that_breaks_the_rules(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(M):\n"
        "    M.objects.select_for_update().get(pk=1)\n"
        "    M.objects.select_for_update(no_key=True).select_related('x').get(pk=1)\n"
        "    M.objects.select_for_update(no_key=True, of=('self',)).select_related('x').get()\n"
    )
    assert _lock_calls(bad) == [
        (2, set(), False),
        (3, {"no_key"}, True),
        (4, {"no_key", "of"}, True),
    ]
