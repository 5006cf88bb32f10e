"""Liquid templates with Ground Truth's rules."""

from handloop.templating.render import TemplateRenderError, render_template
from handloop.templating.syntax import TemplateProblem, check_syntax

__all__ = ["TemplateProblem", "TemplateRenderError", "check_syntax", "render_template"]
