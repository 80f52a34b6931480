"""The scenario format page shows the key tables generated from the declarations,
so the documentation cannot drift from the validation."""

from pathlib import Path

from tuisim.scenario import format_reference_markdown

FORMAT = Path(__file__).resolve().parents[2] / "scenarios" / "FORMAT.md"


def test_format_page_holds_the_generated_reference():
    text = FORMAT.read_text(encoding="utf-8")
    assert format_reference_markdown().strip() in text, (
        "scenarios/FORMAT.md is out of date: paste the output of `python -m tuisim.scenario` under '## Reference'")
