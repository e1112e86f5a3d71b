"""Ed25519 signing of checkpoints: the one module that imports `cryptography`."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import AuditError


def generate_private_pem() -> bytes:
    """A new Ed25519 private key as unencrypted PKCS#8 PEM."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class Ed25519Signer:
    """Signs with one private key; verifies with its public key."""

    def __init__(self, private_pem: bytes) -> None:
        try:
            key = serialization.load_pem_private_key(private_pem, password=None)
        except (ValueError, TypeError) as exc:
            raise AuditError(f"the audit signing key cannot be read: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditError("the audit signing key is not an Ed25519 key")
        self._key = key
        self.public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, data: bytes) -> bytes:
        """The signature of `data`."""
        return self._key.sign(data)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when `signature` is this key's signature of `data`."""
        return verify_with_public_pem(self.public_pem, signature, data)


def verify_with_public_pem(public_pem: bytes, signature: bytes, data: bytes) -> bool:
    """True when `signature` over `data` verifies with the PEM public key."""
    key = serialization.load_pem_public_key(public_pem)
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
