"""Every `huizong` command and subcommand says in one line what it does in --help."""

from __future__ import annotations

import argparse

from huizong import cli


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*prefix, name), helps.get(name)
                yield from _commands(sub, (*prefix, name))


def test_every_subcommand_has_a_one_line_description():
    commands = list(_commands(cli.build_parser()))
    assert len(commands) > 20
    for path, text in commands:
        name = " ".join(path)
        assert text and text.strip(), f"`huizong {name}` has no description in --help"
        assert "\n" not in text and not text.rstrip().endswith(("…", "...")), name


def test_top_level_help_lists_every_command_with_its_description(capsys):
    parser = cli.build_parser()
    parser.print_help()
    out = " ".join(capsys.readouterr().out.split())
    for path, text in _commands(parser):
        if len(path) == 1:
            assert f"{path[0]} {' '.join(text.split())}" in out, path[0]
