"""Sphinx extension for the student edition: every solution is removed, gated ones included.

sphinx-exercise's ``hide_solutions = True`` drops a ``{solution}`` directive, but for the gated
form (``{solution-start}`` … ``{solution-end}``, needed when a solution contains code cells) it
only drops the opening directive: the text and code cells between the two markers would still be
published.  With ``hide_solutions`` on, this extension replaces ``solution-start`` by a marker and
removes everything from the marker through the matching ``solution-end`` before sphinx-exercise
merges gated solutions.

Used by ``tools/build_student.py`` (``make student``), never by the instructor book.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node


class student_cut(nodes.Invisible, nodes.Element):
    """Where a removed gated solution started."""


class HiddenSolutionStart(SolutionStartDirective):
    """``solution-start`` that leaves a cut marker when solutions are hidden."""

    def run(self) -> list[nodes.Node]:
        result = super().run()  # registers the gated pair; returns [] when hide_solutions is on
        if not self.env.app.config.hide_solutions:
            return result
        return [student_cut(label=self.arguments[0])]


class CutGatedSolutions(SphinxTransform):
    """Remove each cut marker and its siblings through the next ``solution-end``."""

    default_priority = 5  # after the gated-structure check (1), before the merge (10)

    def apply(self, **kwargs: Any) -> None:
        for marker in list(self.document.findall(student_cut)):
            parent = marker.parent
            start = parent.index(marker)
            end = next(
                (k for k in range(start, len(parent.children)) if isinstance(parent.children[k], solution_end_node)),
                None,
            )
            if end is None:
                raise RuntimeError(f"{self.env.docname}: solution-start {marker['label']} has no solution-end")
            for child in parent.children[start : end + 1]:
                parent.remove(child)


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx_exercise")
    app.add_node(student_cut)
    app.add_directive("solution-start", HiddenSolutionStart, override=True)
    app.add_transform(CutGatedSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
