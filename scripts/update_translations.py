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


def texts() -> list[str]:
    """Every literal passed to tr(), in first-seen order over the sorted source files."""
    found: dict[str, None] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if SKIP & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value)
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
