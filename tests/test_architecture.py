"""The import rules of docs/architecture.md, checked on the source tree.

The layers, the heavy-library table and the late imports are read from docs/architecture.md itself,
so the document and the code cannot drift apart.  `violations` is also run on small trees built here
with one broken rule each, to show that it catches every kind.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("orepit", "solvers")
FACE = {"orepit/__init__.py", "orepit/__main__.py"}


def _table_after(text: str, marker: str) -> list[list[str]]:
    """Rows (cells) of the Markdown table that follows the HTML comment ``<!-- marker``."""
    lines = text[text.index("<!-- " + marker):].splitlines()[1:]
    rows = []
    for line in lines:
        line = line.strip()
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(cells[0]) <= set("-: "):
            continue
        rows.append(cells)
    return rows[1:]                                    # drop the header row


def read_rules(doc_text: str):
    """(layers [(name, place)], heavy {library: module path}, late {module path: {module names}})
    from the architecture document (``late``: the project's modules a module may import inside
    functions; empty when the document has no such table)."""
    layers = [(row[0], row[1].strip("`")) for row in _table_after(doc_text, "layers")]
    heavy = {}
    for row in _table_after(doc_text, "heavy"):
        for lib in re.findall(r"`([\w.]+)`", row[0]):
            heavy[lib] = row[1].strip("`")
    late = {}
    if "<!-- late" in doc_text:
        for row in _table_after(doc_text, "late"):
            late[row[0].strip("`")] = set(re.findall(r"`([\w.]+)`", row[1]))
    return layers, heavy, late


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(tree: ast.Module, module: str, is_package: bool):
    """(imported module name, line, inside a function) for every import statement."""
    package = module if is_package else module.rpartition(".")[0]
    out = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend((alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - (child.level - 1)]
                    name = ".".join(base + ([child.module] if child.module else []))
                else:
                    name = child.module or ""
                out.append((name, child.lineno, in_function))
                # `from pkg import module` imports the module too
                out.extend((f"{name}.{alias.name}", child.lineno, in_function) for alias in child.names)
            visit(child, inner)

    visit(tree, False)
    return out


def violations(root: Path, doc_text: str) -> list[str]:
    """Every broken rule in the tree at ``root``, one message each (file:line: what)."""
    layers, heavy, late = read_rules(doc_text)
    rank = {place: i for i, (_, place) in enumerate(layers)}
    files = sorted(p for pkg in PACKAGES for p in (root / pkg).rglob("*.py"))
    modules = {_module_name(p, root): p for p in files}

    def layer_of(path: Path):
        rel = path.relative_to(root).as_posix()
        best = None
        for place in rank:
            if rel == place or rel.startswith(place.rstrip("/") + "/"):
                if best is None or len(place) > len(best):
                    best = place
        return best

    found, graph = [], {}
    for name, path in modules.items():
        rel = path.relative_to(root).as_posix()
        own = layer_of(path)
        if own is None and rel not in FACE:
            found.append(f"{rel}: in no layer of docs/architecture.md")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target, line, in_function in _imports(tree, name, path.name == "__init__.py"):
            top = target.split(".")[0]
            lib = next((h for h in heavy if target == h or target.startswith(h + ".")), None)
            if lib is not None:
                if rel != heavy[lib]:
                    found.append(f"{rel}:{line}: imports {target}; only {heavy[lib]} may import {lib}")
                elif not in_function:
                    found.append(f"{rel}:{line}: imports the heavy library {lib} at the top (import it lazily)")
            if top not in PACKAGES or target not in modules:
                continue
            if in_function and target not in late.get(rel, ()):
                found.append(f"{rel}:{line}: imports {target} inside a function (import it at the top)")
            if rel in FACE:
                continue
            graph.setdefault(name, set()).add(target)
            theirs = layer_of(modules[target])
            if rank[theirs] > rank[own]:
                found.append(f"{rel}:{line}: imports {target} from the higher layer "
                             f"{layers[rank[theirs]][0]} ({layers[rank[own]][0]} may not)")
    # circles (Tarjan's strongly connected components)
    index, low, stack, on, counter, comps = {}, {}, [], set(), [0], []

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            strong(v)
    found.extend("import circle: " + " <-> ".join(c) for c in comps)
    return list(dict.fromkeys(found))


def test_the_tree_keeps_the_rules_of_docs_architecture():
    broken = violations(ROOT, DOC.read_text(encoding="utf-8"))
    assert broken == [], "\n".join(broken)


def test_every_folder_of_orepit_is_a_documented_layer():
    layers, _, _ = read_rules(DOC.read_text(encoding="utf-8"))
    places = {place.rstrip("/") for _, place in layers}
    folders = {p.relative_to(ROOT).as_posix() for p in (ROOT / "orepit").iterdir()
               if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= places, f"undocumented layers: {sorted(folders - places)}"


# --- the checker catches each kind of broken rule ----------------------------------------------

DOC_SMALL = """
<!-- layers -->
| layer | place | holds | may import |
|---|---|---|---|
| solvers | `solvers/` | x | nothing |
| data | `orepit/data/` | x | solvers |
| planning | `orepit/planning/` | x | data |

<!-- heavy -->
| library | only by |
|---|---|
| `pyvista` | `orepit/planning/views.py` |

<!-- late -->
| module | imports inside functions, only |
|---|---|
| `orepit/planning/views.py` | `orepit.data.model` |
"""


def _tree(tmp_path, files: dict) -> Path:
    base = {"solvers/__init__.py": "", "solvers/core.py": "X = 1\n",
            "orepit/__init__.py": "", "orepit/data/__init__.py": "", "orepit/data/model.py": "from solvers.core import X\n",
            "orepit/planning/__init__.py": "", "orepit/planning/plan.py": "from orepit.data.model import X\n",
            "orepit/planning/views.py": "def show():\n    import pyvista\n    from orepit.data.model import X\n"}
    base.update(files)
    for rel, text in base.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_clean_small_tree_has_no_violations(tmp_path):
    assert violations(_tree(tmp_path, {}), DOC_SMALL) == []


@pytest.mark.parametrize("files, expected", [
    ({"orepit/data/model.py": "from orepit.planning.plan import X\n"}, "from the higher layer planning"),
    ({"solvers/core.py": "import orepit.data.model\n"}, "from the higher layer data"),
    ({"orepit/planning/plan.py": "def f():\n    from orepit.data.model import X\n"}, "inside a function"),
    ({"orepit/planning/views.py": "def show():\n    from orepit.planning.plan import X\n"}, "inside a function"),
    ({"orepit/planning/a.py": "from orepit.planning.b import Y\nX = 1\n",
      "orepit/planning/b.py": "from orepit.planning.a import X\nY = 1\n"}, "import circle"),
    ({"orepit/planning/plan.py": "import pyvista\n"}, "only orepit/planning/views.py may import pyvista"),
    ({"orepit/planning/views.py": "import pyvista\n"}, "at the top"),
    ({"orepit/output/__init__.py": "", "orepit/output/x.py": ""}, "in no layer"),
])
def test_the_checker_catches_a_broken_rule(tmp_path, files, expected):
    found = violations(_tree(tmp_path, files), DOC_SMALL)
    assert any(expected in message for message in found), found
