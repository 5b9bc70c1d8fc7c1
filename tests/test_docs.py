"""The docs hold together in a clone: every `PROTOCOLS §N` the code, configs and docs cite is a
section of docs/protocols.md, every relative link of the README and docs/ points at a file, and
the README stays a landing page."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _texts():
    for sub in ("lstmrun", "configs", "tests", "scripts", "bench", "docs"):
        for p in (ROOT / sub).rglob("*"):
            if p.suffix in (".py", ".yaml", ".md", ".sh") and p.is_file():
                yield p
    yield ROOT / "README.md"


def test_every_protocols_reference_resolves():
    spec = (ROOT / "docs" / "protocols.md").read_text()
    sections = set(re.findall(r"^#+ (\d+(?:\.\d+)?)[. ]", spec, flags=re.M))
    missing = {}
    for p in _texts():
        for ref in re.findall(r"PROTOCOLS §(\d+(?:\.\d+)?)", p.read_text(errors="replace")):
            if ref not in sections:
                missing.setdefault(ref, p.relative_to(ROOT).as_posix())
    assert not missing, missing


def test_relative_links_point_at_files():
    broken = []
    for p in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", p.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            if not (p.parent / target).exists():
                broken.append(f"{p.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_readme_is_a_landing_page():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250
