"""Lab tokens: JWT-shaped, HMAC-SHA256 signed with a secret kept in the state directory.

Any token minted by the lab with the current secret and not expired is accepted as a Bearer
token, so the static token of lab.json and tokens issued through ``POST /issue`` both work and
keep working across restarts of the same state directory. Tokens are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time

from ..common.pki import write_private

SECRET_FILE = "prisma-token-secret"
VERIFIED_CACHE_SIZE = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    def __init__(self, state_dir: str, issuer: str = "https://127.0.0.1") -> None:
        path = os.path.join(state_dir, SECRET_FILE)
        if os.path.exists(path):
            with open(path, "rb") as handle:
                self._secret = handle.read()
        else:
            self._secret = secrets.token_bytes(32)
            write_private(path, self._secret)
        self.issuer = issuer
        # token -> claims of the tokens whose signature verified (at most VERIFIED_CACHE_SIZE of them)
        self._verified: dict[str, dict] = {}

    def mint(self, realm: str, subject: str, validity_seconds: float, data: dict | None = None, extra: dict | None = None) -> str:
        now = int(time.time())
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "realm": realm,
            "data": data or {},
            "aud": "aporeto.com",
            "iss": self.issuer,
            "sub": subject,
            "iat": now,
            "exp": now + int(validity_seconds),
            "jti": secrets.token_hex(8),
        }
        claims.update(extra or {})
        signing_input = "%s.%s" % (_b64(json.dumps(header, separators=(",", ":")).encode()),
                                   _b64(json.dumps(claims, separators=(",", ":")).encode()))
        signature = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        return "%s.%s" % (signing_input, _b64(signature))

    def verify(self, token: str) -> dict | None:
        """The claims of a valid, unexpired lab token; None otherwise.

        A token whose signature checked once is remembered with its claims (the secret never
        changes while the lab runs), so that the clients' next requests only check its expiry.
        """
        claims = self._verified.get(token)
        if claims is not None:
            if claims["exp"] < time.time():
                self._verified.pop(token, None)
                return None
            return dict(claims)
        claims = self._check(token)
        if claims is not None:
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = dict(claims)
        return claims

    def _check(self, token: str) -> dict | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        signing_input = "%s.%s" % (parts[0], parts[1])
        expected = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return None
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, TypeError):
            return None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return None
        return claims
