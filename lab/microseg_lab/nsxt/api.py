"""The VMware NSX-T manager emulator: Manager API (``/api/v1``) and Policy API (``/policy/api/v1``).

Authentication, checked on every request before routing: HTTP Basic (``admin`` and the password
kept in ``DIR/nsxt-password``); or a session opened with ``POST /api/session/create`` (form fields
``j_username``/``j_password``; answers ``Set-Cookie: JSESSIONID=...`` and ``X-XSRF-TOKEN``), whose
later requests must carry the cookie and the ``X-XSRF-TOKEN`` header; or a TLS client certificate
signed by the lab CA (the principal ``admin``; ``DIR/nsxt-client.pem``/``.key``).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import secrets
import threading
import time
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..common.persistence import SqlitePersistence
from ..common.pki import CertificateAuthority, cert_pem, key_pem, write_private, write_public
from ..common.server import Product, Request, Response, format_seconds
from .common import Ctx, new_uuid
from .errors import SERVER_ERROR, SERVICE_UNAVAILABLE, TOO_MANY_REQUESTS, NsxError, bad_xsrf, credentials, not_found
from .inventory import Inventory
from .journal import Journal
from .manager import ManagerApi
from .policy import EXPRESSION_SUBPATH, PolicyApi

USERNAME = "admin"
PASSWORD_FILE = "nsxt-password"
CLIENT_CERT_FILE = "nsxt-client.pem"
CLIENT_KEY_FILE = "nsxt-client.key"
SQLITE_FILE = "nsxt.sqlite"
SESSION_IDLE_SECONDS = 1800
MAX_SESSIONS = 10000
SESSION_CREATE = "/api/session/create"
SESSION_DESTROY = "/api/session/destroy"
INVENTORY_ROUTE = "/_lab/nsxt/inventory"

# Path segments followed by an identifier (replaced by ``:id`` in the counters).
COLLECTIONS = frozenset({"ns-groups", "sections", "rules", "domains", "groups", "security-policies", "segments", "ports",
                         "services", "ip-sets", "ns-services", "ns-service-groups", "ns-profiles", "logical-switches",
                         "logical-ports", "logical-routers", "logical-router-ports"} | set(EXPRESSION_SUBPATH.values()))
NOT_IDS = frozenset({"summary", "unassociated-virtual-machines", "state", "stats"})


class Sessions:
    """JSESSIONID -> (user, XSRF token, idle deadline)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, list] = {}

    def create(self, user: str) -> tuple[str, str]:
        sid, xsrf = secrets.token_hex(16).upper(), new_uuid()
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions, key=lambda k: self._sessions[k][2])
                del self._sessions[oldest]
            self._sessions[sid] = [user, xsrf, time.monotonic() + SESSION_IDLE_SECONDS]
        return sid, xsrf

    def get(self, sid: str) -> tuple[str, str] | None:
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if session[2] < time.monotonic():
                del self._sessions[sid]
                return None
            session[2] = time.monotonic() + SESSION_IDLE_SECONDS
            return session[0], session[1]

    def destroy(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)


def _session_id(request: Request) -> str | None:
    for header in request.header_values("Cookie"):
        try:
            cookie = SimpleCookie(header)
        except CookieError:
            continue
        if "JSESSIONID" in cookie:
            return cookie["JSESSIONID"].value
    return None


class NsxtProduct(Product):
    name = "nsxt"
    VERSION = "3.2.3.0.0.21703641"

    def __init__(self, state_dir: str, sqlite: bool = False, logger: logging.Logger | None = None) -> None:
        self.state_dir = state_dir
        self.logger = logger or logging.getLogger("microseg_lab.nsxt")
        self.lock = threading.RLock()
        self.base_url = ""
        self.ca: CertificateAuthority | None = None
        self.password = self._password()
        self.sessions = Sessions()
        self.client_cert_path = os.path.join(state_dir, CLIENT_CERT_FILE)
        self.client_key_path = os.path.join(state_dir, CLIENT_KEY_FILE)
        persistence = SqlitePersistence(os.path.join(state_dir, SQLITE_FILE)) if sqlite else None
        self.journal = Journal(persistence)
        self.inventory = Inventory()
        self.manager = ManagerApi(self)
        self.policy = PolicyApi(self)
        if self.journal.enabled and self.journal.get_meta("seeded"):
            by_kind = self.journal.load()
            self.inventory = Inventory(self.journal.get_meta("inventory"))
            self.manager.load(by_kind, self.journal.get_meta("mp", {}))
            self.policy.load(by_kind, self.journal.get_meta("pol", {}))
            self.logger.info("nsxt: state loaded from SQLite")
        else:
            self.reset()

    def _password(self) -> str:
        path = os.path.join(self.state_dir, PASSWORD_FILE)
        try:
            with open(path) as handle:
                password = handle.read().strip()
            if password:
                return password
        except OSError:
            pass
        # Letters and digits only: safe unquoted in shells, URLs, form bodies and YAML.
        password = "Lab1" + secrets.token_hex(12)
        write_private(path, (password + "\n").encode())
        return password

    # ---------------------------------------------------------------- lifecycle

    def start(self, base_url: str, ca: CertificateAuthority) -> None:
        self.base_url = base_url
        self.ca = ca
        self._write_client_cert()

    def _write_client_cert(self) -> None:
        try:
            with open(self.client_cert_path, "rb") as handle:
                cert = x509.load_pem_x509_certificate(handle.read())
            with open(self.client_key_path, "rb") as handle:
                key = serialization.load_pem_private_key(handle.read(), password=None)
            same_key = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == \
                key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            if same_key and self.ca.signed(cert):
                return
        except (OSError, ValueError, TypeError):
            pass
        cert, key = self.ca.issue_client(USERNAME, "microseg lab NSX principal identity")
        write_private(self.client_key_path, key_pem(key))
        write_public(self.client_cert_path, cert_pem(cert))

    def describe(self) -> dict:
        host = self.base_url.split("://", 1)[-1]
        return {"url": self.base_url, "host": host, "username": USERNAME, "password": self.password,
                "ca_path": self.ca.cert_path if self.ca else "", "client_cert": self.client_cert_path,
                "client_key": self.client_key_path}

    def env(self) -> dict[str, str]:
        return {"NSXT_HOST": self.base_url.split("://", 1)[-1], "NSXT_USERNAME": USERNAME, "NSXT_PASSWORD": self.password,
                "NSXT_CA_PATH": self.ca.cert_path if self.ca else ""}

    def reset(self) -> None:
        with self.lock:
            self.journal.wipe()
            self.inventory = Inventory()
            self.manager.seed()
            self.policy.seed()
            self.journal.meta("inventory", self.inventory.to_document())
            self.journal.meta("seeded", True)
            self.journal.flush()

    def close(self) -> None:
        if self.journal.persistence is not None:
            self.journal.persistence.close()

    # ---------------------------------------------------------------- server hooks

    def route_key(self, method: str, path: str) -> str:
        out = []
        previous = None
        for segment in path.split("/"):
            out.append(":id" if previous in COLLECTIONS and segment and segment not in NOT_IDS else segment)
            previous = segment
        return "/".join(out) or "/"

    def error_response(self, status: int, retry_after: float | None = None) -> Response:
        texts = {
            429: (TOO_MANY_REQUESTS, "Client '%s' exceeded the request rate limit. Retry later." % USERNAME),
            503: (SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Retry later."),
            500: (SERVER_ERROR, "An internal error occurred."),
            502: (SERVER_ERROR, "The manager received an invalid response from an upstream service."),
            504: (SERVER_ERROR, "An upstream service did not answer in time."),
        }
        code, message = texts.get(status, (SERVER_ERROR, "Injected error."))
        headers = [("Retry-After", format_seconds(retry_after))] if retry_after is not None else []
        return Response.json(status, NsxError(status, code, message).payload(), headers)

    def lab_admin(self, request: Request) -> Response | None:
        """``/_lab/nsxt/inventory``: GET the inventory, PUT a new one (admin route, not counted)."""
        if request.path.rstrip("/") != INVENTORY_ROUTE:
            return None
        if request.method == "GET":
            return Response.json(200, self.inventory.to_document())
        if request.method == "PUT":
            try:
                inventory = Inventory(json.loads(request.body or b"null"))
            except ValueError as exc:
                return Response.json(400, {"error": str(exc)})
            with self.lock:
                self.inventory = inventory
                self.journal.meta("inventory", inventory.to_document())
                self.journal.flush()
            return Response.json(200, inventory.to_document())
        return Response.json(405, {"error": "use GET or PUT on %s" % INVENTORY_ROUTE})

    # ---------------------------------------------------------------- requests

    def handle(self, request: Request) -> Response:
        try:
            path = request.path.rstrip("/") or "/"
            if path in (SESSION_CREATE, SESSION_DESTROY):
                return self._session(request, path)
            ctx = Ctx(request, self._authenticate(request))
            segments = [s for s in path.split("/") if s]
            with self.lock:
                try:
                    if segments[:2] == ["api", "v1"]:
                        response = self.manager.handle(ctx, segments[2:])
                    elif segments[:3] == ["policy", "api", "v1"]:
                        response = self.policy.handle(ctx, segments[3:])
                    else:
                        raise not_found(request.path)
                    self.journal.flush()
                except BaseException:
                    self.journal.discard()
                    raise
            return response
        except NsxError as exc:
            return Response.json(exc.status, exc.payload(), exc.headers)

    def _valid(self, user: str, password: str) -> bool:
        user_ok = hmac.compare_digest(user.encode(), USERNAME.encode())
        password_ok = hmac.compare_digest(password.encode(), self.password.encode())
        return user_ok and password_ok

    def _authenticate(self, request: Request) -> str:
        header = request.header("Authorization")
        if header:
            scheme, _sep, value = header.partition(" ")
            if scheme.lower() == "basic":
                try:
                    decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    raise credentials() from None
                user, sep, password = decoded.partition(":")
                if sep and self._valid(user, password):
                    return user
            raise credentials()
        sid = _session_id(request)
        if sid:
            session = self.sessions.get(sid)
            if session is not None:
                user, xsrf = session
                if not hmac.compare_digest((request.header("X-XSRF-TOKEN") or "").encode(), xsrf.encode()):
                    raise bad_xsrf()
                return user
        if request.client_cert:
            return USERNAME
        raise credentials()

    def _session(self, request: Request, path: str) -> Response:
        if request.method != "POST":
            raise NsxError(405, 253, "The method %s is not supported for the URI %s" % (request.method, path))
        if path == SESSION_CREATE:
            form = parse_qs((request.body or b"").decode("utf-8", "replace"), keep_blank_values=True)
            user = (form.get("j_username") or [""])[0]
            password = (form.get("j_password") or [""])[0]
            if not self._valid(user, password):
                raise credentials()
            sid, xsrf = self.sessions.create(user)
            return Response(200, b"", [("Set-Cookie", "JSESSIONID=%s; Path=/; Secure; HttpOnly; SameSite=Lax" % sid),
                                       ("X-XSRF-TOKEN", xsrf)])
        self._authenticate(request)
        sid = _session_id(request)
        if sid:
            self.sessions.destroy(sid)
        return Response(200, b"", [("Set-Cookie", "JSESSIONID=; Path=/; Secure; HttpOnly; Max-Age=0")])
