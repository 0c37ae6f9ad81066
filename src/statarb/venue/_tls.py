"""TLS for the venue: a self-signed certificate made at start, or the user's own."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
from pathlib import Path

from statarb.errors import InputError


def self_signed(host: str, directory: Path) -> tuple[Path, Path]:
    """Write a fresh self-signed certificate for ``host`` (and localhost) and its key."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(
            "--tls without --certfile/--keyfile needs the 'cryptography' package "
            "(pip install cryptography, or the 'clients' extra)"
        ) from exc
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "statarb replay")])
    alt: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for h in {host, "127.0.0.1"}:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            alt.append(x509.DNSName(h))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    certfile, keyfile = directory / "replay-cert.pem", directory / "replay-key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))  # fmt: skip
    keyfile.chmod(0o600)
    return certfile, keyfile


def server_ssl_context(
    host: str, certfile: Path | str | None, keyfile: Path | str | None
) -> ssl.SSLContext:
    """A server context from the given files, or from a self-signed certificate made now."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if certfile is None or keyfile is None:
        with tempfile.TemporaryDirectory(prefix="statarb-tls-") as tmp:
            c, k = self_signed(host, Path(tmp))
            ctx.load_cert_chain(c, k)
        return ctx
    for label, f in (("certfile", certfile), ("keyfile", keyfile)):
        if not Path(f).is_file():
            raise InputError(f"{label} {f} does not exist")
    try:
        ctx.load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise InputError(f"cannot load certificate {certfile} / key {keyfile}: {exc}") from exc
    return ctx


__all__ = ["self_signed", "server_ssl_context"]
