"""The `freq-unlearn` command: help, module entry point, world subcommand, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from freq_unlearn.cli import main
from freq_unlearn.world import load_world


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "freq_unlearn", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_every_subcommand() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for cmd in ("world", "pretrain", "knowledge"):
        assert cmd in result.stdout


def test_console_script_matches_module(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("freq-unlearn")
    assert exe.exists(), "the console script is installed with the package"
    result = subprocess.run([str(exe), "world", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--people-per-tier" in result.stdout


def test_world_command_writes_a_verified_world(tmp_path: Path, capsys) -> None:
    out = tmp_path / "w"
    code = main(["world", "--out", str(out), "--people-per-tier", "3", "--n-retain", "4",
                 "--n-utility", "2", "--n-cities", "10", "--seed", "7"])
    assert code == 0
    assert "wrote world" in capsys.readouterr().out
    world = load_world(out)
    assert world.config.seed == 7 and world.meta["summary"]["people"] == 3 * 3 + 4 + 2


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _run("world", "--out", str(tmp_path / "w"), "--people-per-tier", "0")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "people_per_tier must be a positive integer" in result.stderr
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("keep")
    result = _run("world", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert (tmp_path / "x" / "f").read_text() == "keep"
    result = _run("pretrain", "--world", str(tmp_path / "x"), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "world.json is missing" in result.stderr


def test_demo_flags_choose_the_preset() -> None:
    from freq_unlearn.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["demo", "--out", "x"]).preset == "default"
    assert parser.parse_args(["demo", "--out", "x", "--quick"]).preset == "quick"
    assert parser.parse_args(["demo", "--out", "x", "--preset", "paper"]).preset == "paper"
