"""Liquid templates with Ground Truth's rules."""

from handloop.templating.syntax import TemplateProblem, check_syntax

__all__ = ["TemplateProblem", "check_syntax"]
