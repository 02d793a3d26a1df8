"""The type stub of the native module lists every public name the module exports, and the
package ships py.typed (editors and type checkers see the native API)."""

from __future__ import annotations

import ast
from pathlib import Path

import stresslab
from stresslab import _core


def test_stub_covers_every_native_name():
    stub = Path(stresslab.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    declared = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    declared |= {t.id for n in tree.body if isinstance(n, ast.AnnAssign) for t in [n.target] if isinstance(t, ast.Name)}
    public = {n for n in dir(_core) if not n.startswith("_")}
    missing = public - declared
    assert not missing, f"_core.pyi lacks {sorted(missing)}"
    assert Path(stresslab.__file__).with_name("py.typed").exists()
