"""Docs that cannot drift: every setting and CLI command is documented."""

import re
from pathlib import Path

from typer.main import get_command

from geo_sigap.cli.main import app
from geo_sigap.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented():
    doc = (REPO / "docs" / "configuration.md").read_text()
    env = (REPO / ".env.example").read_text()
    for name in Settings.model_fields:
        var = f"GEO_SIGAP_{name.upper()}"
        assert var in doc, f"{var} missing from docs/configuration.md"
        assert var in env, f"{var} missing from .env.example"


def test_every_cli_command_is_documented():
    doc = (REPO / "docs" / "cli.md").read_text()
    root = get_command(app)
    names = []
    for name, cmd in root.commands.items():
        sub = getattr(cmd, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    for n in names:
        assert f"geo-sigap {n}" in doc, f"'geo-sigap {n}' missing from docs/cli.md"


def test_readme_opens_with_the_two_commands():
    text = (REPO / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    assert "scripts/demo" in block and "scripts/test" in block
    assert "scripts/test" in (REPO / ".ci" / "run").read_text()
    for script in ("demo", "test"):
        assert (REPO / "scripts" / script).stat().st_mode & 0o111


def test_generated_docs_are_current():
    from geo_sigap.cli.docs import render, render_settings

    config, env = render_settings()
    assert (REPO / "docs" / "configuration.md").read_text() == config, \
        "run: python -m geo_sigap.cli.docs"
    assert (REPO / ".env.example").read_text() == env, "run: python -m geo_sigap.cli.docs"
    assert (REPO / "docs" / "cli.md").read_text() == render() + "\n", \
        "run: python -m geo_sigap.cli.docs"
