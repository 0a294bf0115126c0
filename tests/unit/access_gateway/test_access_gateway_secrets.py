"""The access gateway keeps secrets sealed under the master key: ``OSTIARY_MASTER_KEY`` when
set, else a key it generates in its data dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from ostiary.access_gateway.runtime import make_config, open_runtime
from ostiary.jose.b64 import b64url_encode
from ostiary.jose.key_encryption import KeyDecryptionError


async def test_without_a_master_key_one_is_generated_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OSTIARY_MASTER_KEY", raising=False)
    runtime = open_runtime(make_config(data_dir=tmp_path))
    sealed = runtime.secrets.seal("00ssws-token", "idps", "a")
    await runtime.close()
    assert (tmp_path / "master.key").exists()
    assert "00ssws-token" not in sealed
    again = open_runtime(make_config(data_dir=tmp_path))
    assert again.secrets.open(sealed, "idps", "a") == "00ssws-token"
    with pytest.raises(KeyDecryptionError):
        again.secrets.open(sealed, "idps", "b")  # bound to its row
    await again.close()


async def test_ostiary_master_key_wins_and_no_key_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSTIARY_MASTER_KEY", b64url_encode(bytes(range(32))))
    runtime = open_runtime(make_config(data_dir=tmp_path))
    sealed = runtime.secrets.seal("secret", "apps", "x")
    await runtime.close()
    assert not (tmp_path / "master.key").exists()
    monkeypatch.setenv("OSTIARY_MASTER_KEY", b64url_encode(bytes(range(1, 33))))
    other = open_runtime(make_config(data_dir=tmp_path))
    with pytest.raises(KeyDecryptionError):
        other.secrets.open(sealed, "apps", "x")
    await other.close()
