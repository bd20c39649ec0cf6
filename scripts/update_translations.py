"""Collect the plugin's tr("…") texts into the translation template i18n/photo_geolocator.ts.

    python scripts/update_translations.py          # rewrite the template
    python scripts/update_translations.py --check  # exit 1 when the template is out of date

Translators copy the template to i18n/photo_geolocator_<lang>.ts, fill it in (Qt Linguist), and
`lrelease i18n/photo_geolocator_<lang>.ts` writes the .qm the plugin loads.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "i18n" / "photo_geolocator.ts"
CONTEXT = "PhotoGeolocator"
SKIP = {".venv", "tests", "bench", "scripts", ".git"}


TRANSLATED_ATTRIBUTES = {"DISPLAY", "HELP"}  # a Processing algorithm's name and help, given to tr() when shown


def folded(node: ast.AST, constants: dict[str, str]) -> str | None:
    """The text of a string literal, or of a sum of literals and module-level string constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = folded(node.left, constants), folded(node.right, constants)
        return None if left is None or right is None else left + right
    return None


def attribute_texts(tree: ast.Module) -> list[str]:
    """The texts of class attributes named in TRANSLATED_ATTRIBUTES (`NAME, DISPLAY = "id", "Text"` too)."""
    constants: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            text = folded(node.value, constants)
            if text is not None:
                constants[node.targets[0].id] = text
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.Assign):
                continue
            for target in statement.targets:
                pairs = (zip(target.elts, statement.value.elts)
                         if isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple)
                         else [(target, statement.value)])
                for name, value in pairs:
                    text = folded(value, constants) if isinstance(name, ast.Name) else None
                    if text and name.id in TRANSLATED_ATTRIBUTES:
                        found.append(text)
    return found


def texts() -> list[str]:
    """Every literal passed to tr() and every translated class attribute, in first-seen order over the
    sorted source files."""
    found: dict[str, None] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if SKIP & set(path.relative_to(ROOT).parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value)
        for text in attribute_texts(tree):
            found.setdefault(text)
    return list(found)


def template(sources: list[str], language: str = "", translations: dict | None = None) -> str:
    translations = translations or {}
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<!DOCTYPE TS>",
             f'<TS version="2.1"{f" language={chr(34)}{language}{chr(34)}" if language else ""}>',
             "<context>", f"    <name>{CONTEXT}</name>"]
    for text in sources:
        translated = translations.get(text)
        body = (f"<translation>{escape(translated)}</translation>" if translated
                else '<translation type="unfinished"></translation>')
        lines += ["    <message>", f"        <source>{escape(text)}</source>", f"        {body}", "    </message>"]
    return "\n".join(lines + ["</context>", "</TS>", ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    wanted = template(texts())
    if args.check:
        current = TEMPLATE.read_text(encoding="utf-8") if TEMPLATE.is_file() else ""
        if current != wanted:
            print(f"{TEMPLATE} is out of date: run python scripts/update_translations.py", file=sys.stderr)
            return 1
        return 0
    TEMPLATE.parent.mkdir(exist_ok=True)
    TEMPLATE.write_text(wanted, encoding="utf-8")
    print(f"wrote {TEMPLATE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
