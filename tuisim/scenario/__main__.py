"""python -m tuisim.scenario: print the format's reference (markdown)."""

from tuisim.scenario.reference import format_reference_markdown

print(format_reference_markdown(), end="")
