"""Every setting and command is documented."""

from __future__ import annotations

from pathlib import Path

import click

from handloop.cli import main
from handloop.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    docs = (ROOT / "docs" / "settings.md").read_text()
    missing = [name for name in Settings.model_fields if f"`HANDLOOP_{name.upper()}`" not in docs]
    assert not missing, f"settings missing from docs/settings.md: {missing}"


def test_every_setting_has_a_description() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def _commands(group: click.Group, prefix: str = "handloop") -> list[str]:
    names = []
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        names.append(full)
        if isinstance(command, click.Group):
            names.extend(_commands(command, full))
    return names


def test_every_command_is_documented() -> None:
    docs = "".join(
        p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    )
    missing = [name for name in _commands(main) if f"`{name}" not in docs]
    assert not missing, f"commands missing from README.md / docs/: {missing}"


def test_every_export_option_is_documented() -> None:
    from handloop.cli.export import export

    docs = (ROOT / "docs" / "export.md").read_text()
    options = [name for param in export.params for name in param.opts if name.startswith("--")]
    missing = [name for name in options if f"`{name}" not in docs]
    assert options and not missing, f"export options missing from docs/export.md: {missing}"
