"""The code each revision records (``migrations/code/<rev>/``): a manifest of every object
present and copies of only the objects it changed, from which its complete code is rebuilt.

No database needed: these check the stored files. ``test_drift.py`` and ``test_down_up.py``
check what the rebuilt code does to a database.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from helpers import load_module

from collab import sqlsource
from collab.resources import migrations_dir

# sha256 of each revision's complete code script as it was when a later revision froze it
# (for 0002-0007: as the full snapshot of the revision held it, migrations/snapshots/<rev>.sql,
# before the code was stored as per-revision changes). A revision's code never changes once a
# later revision builds on it.
FROZEN = {
    "0002": "99b7ac61cff151e0144ac8a6c387657592f11c02a356140c9b9b67bb2fb4650d",
    "0003": "9b3c22202253a2cadcd91c9f58ea036cb934164b124b26cb99d3f6b584e4260e",
    "0004": "f76c2515a7f5ba97b00ff58f9fb86d87d1db90dccb549ddbb6ca776abd3b727c",
    "0005": "5325acd5bbfc0653701561dc0cd76c5d17797e2a1a2608ec4b4552f4f89b4199",
    "0006": "01957a0d2c038d3a9c13e9603831d342f30c2c9003ed5e382495bdbf13472e72",
    "0007": "d219cc560eb3c6ec762e3b20a0f32ee20f523bdcdb101e1f884b0c3a080750b7",
    "0008": "7ae6d9fd6a2c9311f6c53ce1d71ae9c185f011f63f9211eae2b0410e5df5df75",
    "0009": "2ba4af170c6ae8e60ed7975beb0302a00b5c44e0545a2e219f3772c053d95bd5",
    "0010": "e9fdb24aeee047fde72e136e8ad211c6217716fbbbb10be5f9c22337b27c3caf",
    "0011": "25e16a2ed3d1dfb82732234062cb42cba0647b2adc6448b5215c5c27e7523756",
    "0012": "0723938cc0f8bf62a3b7ea60d3248dfdbd49cadf8862019af6d50edd42acf4ef",
    "0013": "d030707d1a5c3661892a51ad1554e35b7bfb4f937362d2c9d17cc339b3366842",
    "0014": "0245d4e35e61e5f42bb2342d24446536fa04984099444c9c28302595424feed0",
    "0015": "8f957da83972cd6f0da1b412e2455d294dfa3d169b761e5430d210b1769b4a10",
    "0016": "1b16ac85517e4e06bf064f32470cae3c54648a347945d7a533adec7a6e582fb5",
    "0017": "dc0e3d81052fcd627b8d63c94e0e11c33db9e17bd5b1968c7cf6182e7307aefb",
    "0018": "e0a237cc8a624a7ba37b3116e9c5c4632d83b0e49bac1eb1db2fb4cc8d22390d",
    "0019": "92a0eb74fdebc57d24c7b970b304d0e5705b2a7643dfbd9c26dfdace7212b8d4",
    "0020": "2a56dbbde58f723b6386c12aec138f44f8250280d4f50b82ee3e8219e809d7de",
    "0021": "e9ac1761b45566b02e6e2095f70a52d5df6448b2b277fb161bdf876de1d778e7",
    "0022": "d80920256c3ffe504100be537e08e4ad2d92736abb5f9854d54aa21e89971bd0",
    "0023": "e84e67a7ea12f9486cc22546ed033b5c440d2f34941baa27730fedc3f1743bc5",
    "0024": "f77fffff383b2ea5e3b2d38f3d50cf1bd819c01d5edace08a4c0c7f666724f28",
    "0025": "8c3ea707760230ef015c0faffecb083c1d3abd12962fdcba8c26fe0e81dda138",
    "0026": "7669462e03f0cde1f24b08f9faf536fa401ad3f9d65c08b65909186fe57575d4",
    "0027": "a7e4560b22f65162ae040ad94cf3e28ac8e796732ae15947109e2dc78d603186",
    "0028": "922fa4f0335bb48f6ad38657e7beb53912120a1772df4f8ceb7e3c039d639022",
    "0029": "70133445266cb10339b535754e1daeb15afc983b7e52469593a8e9a2e2c0604d",
    "0030": "38be9b6757175acacba881b0644ebc79a249052b40c4714e92785ee10fc2e66d",
    "0031": "c9b7831ad584115219cab5447aa07ced5a51b82ebaeacd1195bd41bdcd62c082",
    "0032": "1d9cbf329cb51be11743a3b328e4906dbe9c3f22fde0274e5f1ccf5e04a15b6d",
    "0033": "880fdd7140cedf7e70121fa68f9d86f11b1a89d7616a2f3d76d1ea5264a5e62a",
    "0034": "c3cea09a119d0a0a4939b35819c80886a57e7d17ab26e96207ae6f5728ab9354",
    "0035": "c3cea09a119d0a0a4939b35819c80886a57e7d17ab26e96207ae6f5728ab9354",
    "0036": "8b75fa11a6f3ca7e501af0caf28bdf9ecf6d45b5293ff69ee356a1ea0a688627",
    "0037": "a20dec6768c7aa23443c64b3f5f29e48dfdd229fa6080f25ba19263f7779a026",
}


def alembic_revisions() -> list[str]:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    script = ScriptDirectory.from_config(cfg)
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


def canonical_order(names: list[str]) -> list[str]:
    """The order ``sqlsource.current_code`` applies: prologue, objects by kind then name,
    epilogue."""
    objects = [n for n in names if n not in (sqlsource.PROLOGUE, sqlsource.EPILOGUE)]
    kinds = sqlsource.OBJECT_KINDS
    ordered = sorted(objects, key=lambda n: (kinds.index(n.split("/")[0]), n))
    return [sqlsource.PROLOGUE, *ordered, sqlsource.EPILOGUE]


@pytest.mark.parametrize("revision", sorted(FROZEN))
def test_a_frozen_revision_rebuilds_the_code_its_full_snapshot_held(revision: str) -> None:
    script = sqlsource.rebuild_snapshot(revision)
    assert script is not None, f"revision {revision} records no code"
    assert hashlib.sha256(script.encode()).hexdigest() == FROZEN[revision]


def test_every_revision_after_the_first_records_code_and_nothing_else_does() -> None:
    revisions = alembic_revisions()
    recorded = sqlsource.code_revisions()
    assert recorded, "no revision records code"
    assert recorded == revisions[revisions.index(recorded[0]) :]
    assert set(FROZEN) < set(recorded)


def test_the_head_rebuilds_exactly_the_sql_sources() -> None:
    head = alembic_revisions()[-1]
    assert sqlsource.rebuild_snapshot(head) == sqlsource.render_snapshot(), (
        f"sql/ differs from the code of revision {head}: run "
        f"`python -c \"from collab.migrate import write_snapshot; write_snapshot('{head}')\"`"
    )


@pytest.mark.parametrize("revision", sqlsource.code_revisions())
def test_a_revision_stores_exactly_the_objects_it_changed(revision: str) -> None:
    code = sqlsource.rebuild_code(revision)
    assert code is not None
    previous = sqlsource.previous_code(revision)
    stored = sqlsource.stored_files(revision)
    assert set(stored) <= set(code), "a stored file missing from the manifest"
    redundant = sorted(n for n in stored if previous.get(n) == stored[n])
    assert not redundant, f"stored although unchanged since the previous revision: {redundant}"
    assert stored == sqlsource.delta(previous, code)


@pytest.mark.parametrize("revision", sqlsource.code_revisions())
def test_a_manifest_lists_its_objects_once_in_the_order_applied(revision: str) -> None:
    names = sqlsource.read_manifest(revision)
    assert names is not None
    assert len(set(names)) == len(names)
    assert names == canonical_order(names)


def test_a_new_revision_locks_the_code_tables_before_it_switches_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`collab migrate new` writes revisions from migrations/script.py.mako: both directions
    lock the tables whose code they reset (migration_ops.lock_code_tables) before resetting
    it, then apply the revision's code, or the previous revision's going down."""
    from alembic import command

    from collab import migration_ops

    (tmp_path / "versions").mkdir()
    shutil.copy(migrations_dir() / "script.py.mako", tmp_path / "script.py.mako")
    (tmp_path / "env.py").write_text("")
    cfg = Config()
    cfg.set_main_option("script_location", str(tmp_path))
    command.revision(cfg, message="probe", rev_id="0001")
    command.revision(cfg, message="probe", rev_id="0002")

    calls: list[tuple[str, object]] = []
    for name in ("lock_code_tables", "reset_code", "apply_snapshot"):
        monkeypatch.setattr(
            migration_ops, name, lambda *args, name=name: calls.append((name, args[:1] or None))
        )
    path = next((tmp_path / "versions").glob("0002_*.py"))
    revision = load_module("probe_revision_0002", path)

    revision.upgrade()
    assert calls == [
        ("lock_code_tables", ("0002",)),
        ("reset_code", None),
        ("apply_snapshot", ("0002",)),
    ]
    calls.clear()
    revision.downgrade()
    assert calls == [
        ("lock_code_tables", ("0002",)),
        ("reset_code", None),
        ("apply_snapshot", ("0001",)),
    ]
