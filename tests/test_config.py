import pytest
from pydantic import ValidationError

from statarb.config import Settings, load_settings


def test_env_and_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("STATARB_STORE_URL", "sqlite:///x.db")
    monkeypatch.setenv("STATARB_SYMBOLS", "btcusdt, ethusdt")
    s = load_settings(api_port=9000, api_token=None)
    assert s.store_url == "sqlite:///x.db"
    assert s.symbols == ["BTCUSDT", "ETHUSDT"]
    assert s.api_port == 9000
    assert str(s.sqlite_path) == "x.db"


def test_toml_file(monkeypatch, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('store_url = "sqlite:///from_file.db"\napi_port = 8100\n')
    monkeypatch.setenv("STATARB_CONFIG", str(cfg))
    monkeypatch.setenv("STATARB_API_PORT", "8200")
    s = load_settings()
    assert s.store_url == "sqlite:///from_file.db"
    assert s.api_port == 8200  # environment beats the file


def test_telegram_api_must_be_an_http_url() -> None:
    assert Settings().telegram_api == "https://api.telegram.org"
    assert Settings(telegram_api="http://127.0.0.1:8081/").telegram_api == "http://127.0.0.1:8081"
    with pytest.raises(ValidationError, match="telegram_api"):
        Settings(telegram_api="ftp://api.telegram.org")
