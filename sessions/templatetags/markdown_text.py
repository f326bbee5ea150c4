"""`{{ text|markdown_literal }}` in the Markdown templates: see sessions.markdown."""

from django import template

from sessions.markdown import markdown_literal

register = template.Library()
register.filter("markdown_literal", markdown_literal)
