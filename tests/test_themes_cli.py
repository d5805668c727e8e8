"""`kyoso themes show` and `kyoso themes assign`: the recorded analysis with its duplicate groups,
multi-theme opinions, lift and assignment of new opinions, from the command line."""

import json

import pytest
from click.testing import CliRunner

from projections.storage import Storage
from tests.conftest import World
from tests.test_themes_v2_web import BUS, CAMPAIGN, LONG, OPINIONS, answer, long_text_survey
from web.cli_themes import themes
from web.themes import run_analysis


def test_show_and_assign(world: World, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    if storage.database_url:
        monkeypatch.setenv("KYOSO_DATABASE_URL", storage.database_url)
    else:
        monkeypatch.delenv("KYOSO_DATABASE_URL", raising=False)
    data_dir = str(storage.data_dir)
    survey, question = long_text_survey(world, storage)
    answer(world, storage, survey, question, OPINIONS + CAMPAIGN + [LONG])
    analysis_id = run_analysis(storage, f"survey:{survey}:{question}", world.staff, k=3)

    runner = CliRunner()
    rerun = runner.invoke(themes, ["rerun", str(analysis_id), "--data-dir", data_dir])
    assert rerun.exit_code == 0 and json.loads(rerun.output)["identical"] is True, rerun.output
    shown = runner.invoke(themes, ["show", str(analysis_id), "--data-dir", data_dir, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert [len(d["members"]) for t in data["themes"] for d in t["duplicates"]] == [6]
    assert len(data["multi_theme_opinions"]) == 1 and data["assignment"] is None
    assert {t["segment"] for t in data["lift"]} == {"ward", "age_band", "children"}
    assert BUS not in shown.output  # counts and ids, never the opinions' words

    nothing = runner.invoke(themes, ["assign", str(analysis_id), "--by", "staff@example.jp", "--data-dir", data_dir])
    assert nothing.exit_code != 0 and "届いた意見はありません" in nothing.output

    answer(
        world, storage, survey, question, ["公園の遊具を新しくしてほしい。", "市の花火大会の日程を早く教えてほしい。"]
    )
    assigned = runner.invoke(themes, ["assign", str(analysis_id), "--by", "staff@example.jp", "--data-dir", data_dir])
    assert assigned.exit_code == 0, assigned.output
    summary = json.loads(assigned.output)
    assert summary["assigned"] == 2 and summary["rerun_recommended"] == (summary["new_opinions"] > 0)
    storage.projector.catch_up()
    table = runner.invoke(themes, ["show", str(analysis_id), "--data-dir", data_dir])
    assert table.exit_code == 0 and "同趣旨 6件" in table.output and "分析後に届いた意見 2 件" in table.output
    assert "lift: ward" in table.output
    assert (
        runner.invoke(
            themes, ["assign", str(analysis_id), "--by", "nobody@example.jp", "--data-dir", data_dir]
        ).exit_code
        != 0
    )
