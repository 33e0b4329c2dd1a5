"""The models package imports a part only when one of its names is asked for: so every public name of
every part must be listed where it lives, and asking for one name must not build the others' classes."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import healthcode.models as models

PACKAGE = Path(models.__file__).parent
PARTS = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _public_names(part: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{part}.py").read_text("utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def test_every_public_name_is_listed_where_it_is_defined():
    listed = dict(models._WHERE)
    for part in PARTS:
        for name in _public_names(part):
            assert listed.pop(name, None) == part, f"{name} (models/{part}.py) is not listed in _WHERE as {part!r}"
    assert not listed, f"listed but defined nowhere: {sorted(listed)}"


def test_every_listed_name_resolves_to_its_part():
    for name, part in models._WHERE.items():
        value = getattr(models, name)
        assert value is getattr(importlib.import_module(f"healthcode.models.{part}"), name)


def test_an_unknown_name_is_an_attribute_error():
    try:
        models.NoSuchModel  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchModel" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")


def test_asking_for_the_checkpoint_models_builds_only_their_part():
    probe = (
        "import sys\n"
        "from healthcode.models import VerificationRequest, VerificationView\n"
        "print(sorted(m for m in sys.modules if m.startswith('healthcode.models.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['healthcode.models._base', 'healthcode.models.checkpoint']"
