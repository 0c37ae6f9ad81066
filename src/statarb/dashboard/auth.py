"""The dashboard's login gate: nothing renders, and no API call is made, before it passes.

The dashboard acts with the engine's API token (it creates rules, starts feeds, uploads files),
so a visitor must not reach it without proving they may use that token. On loopback (the
default bind) the machine's users are trusted. With ``STATARB_DASHBOARD_PASSWORD`` set, every
browser session logs in first, wherever the dashboard is bound; bound beyond loopback without a
password, the dashboard refuses to serve anything (``statarb dashboard`` refuses to start).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statarb.config import Settings

SESSION_KEY = "statarb_authenticated"


def password_ok(settings: Settings, given: object) -> bool:
    """Whether ``given`` is the configured dashboard password (constant-time comparison)."""
    expected = settings.dashboard_password
    return (
        bool(expected)
        and isinstance(given, str)
        and hmac.compare_digest(given.encode(), str(expected).encode())
    )


def require_login(settings: Settings) -> None:
    """Stop the script run unless this session may use the dashboard (see the module docs)."""
    import streamlit as st

    from statarb.dashboard.launch import is_loopback

    if not settings.dashboard_password:
        if is_loopback(settings.dashboard_host):
            return
        st.error(
            "This dashboard is bound beyond loopback without a password. Set "
            "STATARB_DASHBOARD_PASSWORD and restart it."
        )
        st.stop()
    if st.session_state.get(SESSION_KEY):
        return
    st.title("statarb")
    with st.form("login"):
        given = st.text_input("Password", type="password", key="statarb_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        if password_ok(settings, given):
            st.session_state[SESSION_KEY] = True
            st.session_state.pop("statarb_password", None)
            st.rerun()
        st.error("Wrong password.")
    st.stop()


__all__ = ["SESSION_KEY", "password_ok", "require_login"]
