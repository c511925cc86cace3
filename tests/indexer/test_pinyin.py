"""Pinyin for the shorthand table is worked out in a child process, with the same answers."""

from __future__ import annotations

import subprocess
import sys

from indexer.pinyin import compute, term_pinyin

TERMS = ["电子病历", "门诊收费", "银行", "重启", "长期医嘱"]


def test_the_child_process_answers_as_pypinyin_does_here() -> None:
    assert term_pinyin(TERMS) == compute(TERMS)
    assert term_pinyin(["电子病历"]) == {"电子病历": ("dianzibingli", "dzbl")}


def test_building_the_shorthand_leaves_pypinyin_out_of_the_process() -> None:
    probe = (
        "import sys; from indexer.shorthand import default_shorthand; "
        "assert default_shorthand().split('mzsf'); "
        "assert 'pypinyin' not in sys.modules, 'pypinyin was imported'"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
