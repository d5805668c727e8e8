"""The `kyoso` command: migrations, demo data, accounts, erasure and a rebuild with a progress bar."""

from pathlib import Path

from click.testing import CliRunner

from projections.storage import Storage
from web.cli import cli


def test_demo_users_rebuild_and_erase(tmp_path: Path) -> None:
    runner = CliRunner()
    data = str(tmp_path / "data")
    migrated = runner.invoke(cli, ["migrate", "--data-dir", data])
    assert migrated.exit_code == 0, migrated.output
    demo = runner.invoke(cli, ["demo", "--data-dir", data, "--responses", "20"])
    assert demo.exit_code == 0, demo.output
    assert "staff@demo.kyoso.jp" in demo.output
    again = runner.invoke(cli, ["demo", "--data-dir", data, "--if-empty"])
    assert again.exit_code == 0 and "すでに" in again.output

    added = runner.invoke(
        cli,
        [
            "users",
            "add",
            "--data-dir",
            data,
            "--email",
            "k@example.jp",
            "--name",
            "危機管理",
            "--role",
            "staff",
            "--department",
            "危機管理課",
            "--password",
            "a-long-password",
        ],
    )
    assert added.exit_code == 0, added.output
    duplicate = runner.invoke(
        cli,
        [
            "users",
            "add",
            "--data-dir",
            data,
            "--email",
            "k@example.jp",
            "--name",
            "x",
            "--role",
            "auditor",
            "--password",
            "a-long-password",
        ],
    )
    assert duplicate.exit_code != 0 and "すでに登録" in duplicate.output

    storage = Storage.open(data)
    before = sorted(storage.db.query("SELECT survey_id, response_count FROM surveys"))
    storage.close()
    rebuilt = runner.invoke(cli, ["projections", "rebuild", "--data-dir", data])
    assert rebuilt.exit_code == 0, rebuilt.output
    storage = Storage.open(data)
    assert sorted(storage.db.query("SELECT survey_id, response_count FROM surveys")) == before
    storage.close()

    erased = runner.invoke(cli, ["users", "erase", "--data-dir", data, "--email", "citizen@demo.kyoso.jp", "--yes"])
    assert erased.exit_code == 0, erased.output
    storage = Storage.open(data)
    assert storage.identities.find_by_email("citizen@demo.kyoso.jp") is None
    storage.close()
