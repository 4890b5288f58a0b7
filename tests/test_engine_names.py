"""No module outside ``engines/<name>/`` names an engine, as a string or in an import.

Engines are found through the registry and declare what they know; the
catalog, library, reports, workflows and CLI ask declarations. The test reads
every module of ``src/`` with ``tokenize`` (strings, docstrings included) and
``ast`` (imports); comments are not code and are not read.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nirs4all_workspace"
ENGINES = sorted(p.parent.name for p in (PACKAGE / "engines").glob("*/declaration.py"))


def names_in(path: Path) -> set[str]:
    """The engine names ``path`` uses in a string or an import."""
    text = path.read_text(encoding="utf-8")
    found = set()
    pattern = re.compile(rf"\b({'|'.join(ENGINES)})\b")
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING:
            found.update(pattern.findall(token.string))
    for node in ast.walk(ast.parse(text)):
        modules = []
        if isinstance(node, ast.ImportFrom):
            modules = [node.module or "", *(a.name for a in node.names)]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        for module in modules:
            found.update(part for part in module.split(".") if part in ENGINES)
    return found


def offenders() -> dict[str, set[str]]:
    result = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "engines" and len(relative.parts) > 2 and relative.parts[1] in ENGINES:
            continue  # an engine's own package
        names = names_in(path)
        if names:
            result[relative.as_posix()] = names
    return result


def test_both_built_in_engines_are_found_by_their_declarations() -> None:
    assert len(ENGINES) >= 2


def test_no_module_outside_an_engines_package_names_an_engine() -> None:
    found = offenders()
    assert found == {}, f"modules naming an engine: {found}"


def test_the_scan_sees_strings_and_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    name = ENGINES[0]
    module.write_text(f'from .engines.{name} import x\nY = "{name}"\n# {name} in a comment\n')
    assert names_in(module) == {name}
    module.write_text(f"# {name} in a comment only\nZ = 1\n")
    assert names_in(module) == set()
