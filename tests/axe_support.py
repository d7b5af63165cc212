"""axe-core for the accessibility browser tests, fetched from the npm registry at test time.

The tarball is pinned by version and ``dist.integrity`` (sha512) and checked
with :func:`scripts.databuild.npm.verify_integrity`; ``axe.min.js`` is
extracted into the git-ignored ``.test-tools/`` folder and never committed.
``scripts/ensure-test-tools.sh`` fetches it ahead of ``make test``
(``python tests/axe_support.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # run as a script by ensure-test-tools.sh
    sys.path.insert(0, str(PROJECT_ROOT))

from scripts.databuild.config import NpmPackage  # noqa: E402
from scripts.databuild.npm import download_tarball, extract_tar_members, verify_integrity  # noqa: E402

AXE = NpmPackage(
    "axe-core",
    "4.14.1",
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
    "2026-11-16",
)
TOOLS = PROJECT_ROOT / ".test-tools"
#: The rules of WCAG 2.1 A and AA (what BITV 2.0 / EN 301 549 require of web content).
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
#: Impacts that fail a test.
FAILING = ("serious", "critical")


def axe_script() -> str:
    """The source of ``axe.min.js`` (downloaded and integrity-checked on first use)."""
    folder = TOOLS / AXE.spec
    script = folder / "package" / "axe.min.js"
    tarball = folder / AXE.tarball_name
    if not script.is_file():
        if not tarball.is_file():
            download_tarball(AXE, folder)
        verify_integrity(tarball, AXE.integrity)
        extract_tar_members(tarball, ["package/axe.min.js"], folder)
    return script.read_text(encoding="utf-8")


def run_axe(frame: Any) -> list[dict[str, Any]]:
    """Inject axe into a Playwright page or frame and return its WCAG 2.1 AA violations."""
    if not frame.evaluate("() => typeof window.axe !== 'undefined'"):
        frame.add_script_tag(content=axe_script())
    tags = list(WCAG_TAGS)
    return list(
        frame.evaluate(
            "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))",
            tags,
        )
    )


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations that fail a test (serious or critical)."""
    return [v for v in violations if v["impact"] in FAILING]


if __name__ == "__main__":
    print(f"axe-core bereit: {len(axe_script()):,} Zeichen ({AXE.spec}, sha512 geprüft)")
