"""Every benchmark command that README.md, docs/*.md and the Makefile give names a script that exists
and options that script's parser accepts, so that a documented command cannot rot into a usage error.

The command is parsed by the script's own ``main`` up to its ``parse_args`` call, and stopped there:
nothing is measured.
"""

from __future__ import annotations

import argparse
import re
import shlex

import pytest
from _docs import PAGES, ROOT

IN_TEXT = re.compile(r"`python3? benchmarks/(\w+)\.py([^`]*)`")
IN_MAKEFILE = re.compile(r"^\t\$\(PY\) benchmarks/(\w+)\.py(.*)$", re.MULTILINE)


def _commands() -> dict[str, tuple[str, list[str]]]:
    """``{command as written: (script, argv)}``; a code span broken over lines counts as one line."""
    found = {}
    for page in PAGES:
        text = re.sub(r"\s*\n\s*", " ", page.read_text(encoding="utf-8"))
        found.update({match.group(0): (match.group(1), match.group(2)) for match in IN_TEXT.finditer(text)})
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found.update({match.group(0).strip(): (match.group(1), match.group(2)) for match in IN_MAKEFILE.finditer(makefile)})
    return {command: (script, shlex.split(argv)) for command, (script, argv) in found.items()}


COMMANDS = _commands()


class _Parsed(Exception):
    """Raised once the script's parser has accepted the arguments."""


def test_the_documents_give_benchmark_commands():
    scripts = {script for script, _ in COMMANDS.values()}
    assert len(COMMANDS) >= 25 and {"ltsf", "classification", "kernels", "kernels_gpu"} <= scripts


@pytest.mark.parametrize("command", sorted(COMMANDS), ids=lambda command: command[:80])
def test_documented_command_parses(command, benchmark_script, monkeypatch, capsys):
    script, argv = COMMANDS[command]
    assert (ROOT / "benchmarks" / f"{script}.py").is_file(), f"{command}: no benchmarks/{script}.py"
    parse_args = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser, args=None, namespace=None):
        parse_args(parser, args, namespace)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    module = benchmark_script(script)
    try:
        module.main(argv)
    except SystemExit:
        pytest.fail(f"{command}: the script refuses it: {capsys.readouterr().err.strip()}")
    except _Parsed:
        return
    pytest.fail(f"{command}: main returned without parsing its arguments")
