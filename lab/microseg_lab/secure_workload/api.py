"""The Cisco Secure Workload emulator: signed requests to ``/openapi/v1`` on its own port.

Order of the checks on every ``/openapi/v1`` request: the signature (401, see ``signing``), the
route (404 unknown path, 405 method), the body's media type (415 unless ``application/json``), the
JSON decoding (400), then the resource's own validation (422) and lookups (404). Errors are
``{"error": "..."}``. Paths outside ``/openapi/v1`` answer 404 without a signature check.

The API key and secret are generated once and kept in ``DIR/secure-workload-credentials.json``.
The lab starts with the root scope ``Default`` (VRF 1, query ``vrf_id = 1``), its built-in agent
config profile ``Default``, five sensors and an inventory (Kubernetes nodes, the pods of the
workload-isolation guide and two hosts) for ``POST /inventory/search``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from urllib.parse import unquote, urlencode

from ..common.persistence import SqlitePersistence
from ..common.pki import CertificateAuthority, write_private
from ..common.server import Product, Request, Response, format_seconds, generic_route_key
from .agents import Agents, default_inventory
from .errors import SwError, bad_request
from .fields import Call, method_not_allowed
from .model import Model
from .orchestrators import Orchestrators
from .scopes import Scopes
from .signing import Verifier
from .store import Store
from .workspaces import Workspaces

API_PREFIX = "/openapi/v1"
ADMIN_PREFIX = "/_lab/secure_workload"
CREDENTIALS_FILE = "secure-workload-credentials.json"
SQLITE_FILE = "secure_workload.sqlite"
ROOT_SCOPE_NAME = "Default"
ROOT_VRF_ID = 1
ROOT_SCOPE_ID = "5e0500000000000000000001"
DEFAULT_PROFILE_ID = "5e0500000000000000000002"
PLACEHOLDER_KEYS = {"id": ":id", "l4": ":id", "version": ":version", "scope": ":scope"}


class Router:
    """Method + path patterns (``/app_scopes/{id}``); the most specific pattern wins."""

    def __init__(self, routes: list) -> None:
        self.routes = []
        for method, pattern, handler in routes:
            segments = tuple(s for s in pattern.split("/") if s)
            literals = sum(1 for s in segments if not s.startswith("{"))
            self.routes.append((method, pattern, segments, literals, handler))

    def _candidates(self, path: str) -> list:
        parts = [s for s in path.split("/") if s]
        found = []
        for method, pattern, segments, literals, handler in self.routes:
            if len(segments) != len(parts):
                continue
            params = {}
            for segment, part in zip(segments, parts, strict=True):
                if segment.startswith("{"):
                    params[segment[1:-1]] = unquote(part)
                elif segment != part:
                    break
            else:
                found.append((literals, method, pattern, handler, params))
        return found

    def resolve(self, method: str, path: str):
        candidates = self._candidates(path)
        if not candidates:
            raise SwError(404, "unknown API path %s%s" % (API_PREFIX, path))
        usable = [c for c in candidates if c[1] == method]
        if not usable:
            raise method_not_allowed(method, API_PREFIX + path, sorted({c[1] for c in candidates}))
        _literals, _method, _pattern, handler, params = max(usable, key=lambda c: c[0])
        return handler, params

    def pattern(self, path: str) -> str | None:
        candidates = self._candidates(path)
        if not candidates:
            return None
        pattern = max(candidates, key=lambda c: c[0])[2]
        return "/".join(PLACEHOLDER_KEYS.get(s[1:-1], s) if s.startswith("{") else s for s in pattern.split("/"))


def request_target(request: Request) -> str:
    """The path and query as the client sent them (what it signed).

    The lab's request handler records the raw request target on the headers object; without it
    (a server that does not), the target is rebuilt from the parsed query, which is exact for the
    usual unreserved parameter values.
    """
    raw = getattr(request.headers, "request_target", None)
    if raw:
        return raw
    query = urlencode([(k, v) for k, values in request.query.items() for v in values])
    return request.path + ("?" + query if query else "")


class SecureWorkloadProduct(Product):
    name = "secure_workload"

    def __init__(self, state_dir: str, sqlite: bool = False, logger: logging.Logger | None = None) -> None:
        self.state_dir = state_dir
        self.logger = logger or logging.getLogger("microseg_lab.secure_workload")
        self.lock = threading.RLock()
        self.base_url = ""
        self.ca: CertificateAuthority | None = None
        self.api_key, self.api_secret = self._credentials()
        self.verifier = Verifier(self.api_key, self.api_secret)
        persistence = SqlitePersistence(os.path.join(state_dir, SQLITE_FILE)) if sqlite else None
        self.store = Store(persistence)
        self.model = Model(self.store)
        self.scopes = Scopes(self.model)
        self.workspaces = Workspaces(self.model)
        self.agents = Agents(self.model)
        self.orchestrators = Orchestrators(self.model, self.agents)
        self.router = Router(self.scopes.routes() + self.workspaces.routes() + self.agents.routes() + self.orchestrators.routes())
        if self.store.load():
            saved = persistence.get_meta("inventory") if persistence is not None else None
            self.agents.inventory = json.loads(saved) if saved else default_inventory(ROOT_VRF_ID, ROOT_SCOPE_NAME)
            self.logger.info("secure_workload: state loaded from SQLite")
        else:
            self.reset()

    def _credentials(self) -> tuple[str, str]:
        path = os.path.join(self.state_dir, CREDENTIALS_FILE)
        try:
            with open(path) as handle:
                saved = json.load(handle)
            key, secret = saved["api_key"], saved["api_secret"]
            if isinstance(key, str) and len(key) == 32 and isinstance(secret, str) and len(secret) == 40:
                return key, secret
        except (OSError, ValueError, KeyError, TypeError):
            pass
        # A 32-hex key and a 40-character secret, the sizes the product issues (the Go signer
        # insists on a 40-byte secret).
        key, secret = secrets.token_hex(16), secrets.token_hex(20)
        write_private(path, (json.dumps({"api_key": key, "api_secret": secret}, indent=2) + "\n").encode())
        return key, secret

    # ---------------------------------------------------------------- lifecycle

    def start(self, base_url: str, ca: CertificateAuthority) -> None:
        self.base_url = base_url
        self.ca = ca

    def describe(self) -> dict:
        return {"url": self.base_url, "api_key": self.api_key, "api_secret": self.api_secret, "ca_path": self.ca.cert_path if self.ca else ""}

    def env(self) -> dict[str, str]:
        return {"SW_URL": self.base_url, "SW_API_KEY": self.api_key, "SW_API_SECRET": self.api_secret,
                "SW_CA_PATH": self.ca.cert_path if self.ca else ""}

    def reset(self) -> None:
        with self.lock:
            self.store.wipe()
            root = self.scopes.seed_root(ROOT_SCOPE_ID, ROOT_SCOPE_NAME, ROOT_VRF_ID)
            self.agents.seed(root, DEFAULT_PROFILE_ID)
            self.agents.inventory = default_inventory(ROOT_VRF_ID, ROOT_SCOPE_NAME)
            self.store.commit()
            self._save_inventory()
            self.store.mark_seeded()
            self.verifier.reset()

    def _save_inventory(self) -> None:
        if self.store.persistence is not None:
            self.store.persistence.set_meta("inventory", json.dumps(self.agents.inventory, separators=(",", ":")))

    def close(self) -> None:
        self.store.close()

    # ---------------------------------------------------------------- server hooks

    def route_key(self, method: str, path: str) -> str:
        if path.startswith(API_PREFIX + "/"):
            pattern = self.router.pattern(path[len(API_PREFIX):])
            if pattern is not None:
                return API_PREFIX + pattern
        return generic_route_key(path)

    def error_response(self, status: int, retry_after: float | None = None) -> Response:
        messages = {429: "too_many_request", 500: "internal server error", 502: "bad gateway", 503: "service unavailable",
                    504: "gateway timeout"}
        headers = [("Retry-After", format_seconds(retry_after))] if retry_after is not None else []
        return Response.json(status, {"error": messages.get(status, "injected error %d" % status)}, headers)

    def lab_admin(self, request: Request) -> Response | None:
        """``/_lab/secure_workload/{clock_skew,auth_failure_status,inventory,orchestrators}`` (admin routes, not counted)."""
        path = request.path.rstrip("/")
        if not path.startswith(ADMIN_PREFIX + "/"):
            return None
        name = path[len(ADMIN_PREFIX) + 1:]
        handlers = {"clock_skew": self._admin_clock_skew, "auth_failure_status": self._admin_failure_status,
                    "inventory": self._admin_inventory, "orchestrators": self._admin_orchestrators}
        if name not in handlers:
            return None
        if request.method not in ("GET", "PUT"):
            return Response.json(405, {"error": "use GET or PUT on %s" % path})
        try:
            payload = json.loads(request.body or b"null") if request.method == "PUT" else None
            return Response.json(200, handlers[name](request.method, payload))
        except (ValueError, SwError) as exc:
            return Response.json(400, {"error": exc.message if isinstance(exc, SwError) else str(exc)})

    def _admin_clock_skew(self, method: str, payload):
        if method == "PUT":
            if not isinstance(payload, dict) or "clock_skew" not in payload:
                raise ValueError("body: {\"clock_skew\": seconds >= 0, or null for no limit}")
            value = payload["clock_skew"]
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise ValueError("body: {\"clock_skew\": seconds >= 0, or null for no limit}")
            self.verifier.clock_skew = value
        return {"clock_skew": self.verifier.clock_skew}

    def _admin_failure_status(self, method: str, payload):
        if method == "PUT":
            value = payload.get("status") if isinstance(payload, dict) else None
            if value not in (401, 403):
                raise ValueError("body: {\"status\": 401 or 403}")
            self.verifier.failure_status = value
        return {"status": self.verifier.failure_status}

    def _admin_orchestrators(self, method: str, payload):
        """What the lab's connector read from each Kubernetes orchestrator's cluster (GET only)."""
        if method != "GET":
            raise ValueError("orchestrators is read-only")
        with self.lock:
            return self.orchestrators.admin_status()

    def _admin_inventory(self, method: str, payload):
        if method == "PUT":
            with self.lock:
                self.agents.set_inventory(payload)
                self._save_inventory()
        return self.agents.inventory

    # ---------------------------------------------------------------- requests

    def handle(self, request: Request) -> Response:
        path = request.path
        method = request.method.upper()
        if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
            return Response.json(404, {"error": "unknown path %s (the API is under %s)" % (path, API_PREFIX)})
        try:
            self.verifier.verify(method, request_target(request), request.headers, request.body)
            handler, params = self.router.resolve(method, path[len(API_PREFIX):])
            payload = None
            if request.body and method != "GET":
                media_type = (request.header("Content-Type") or "").split(";", 1)[0].strip().lower()
                if media_type != "application/json":
                    raise SwError(415, "Content-Type must be application/json for a request with a body (got %r)"
                                  % (request.header("Content-Type") or ""))
                try:
                    payload = json.loads(request.body)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise bad_request("the request body is not valid JSON: %s" % exc) from None
            call = Call(request, params, payload)
            with self.lock:
                try:
                    result = handler(call)
                    self.store.commit()
                except BaseException:
                    self.store.rollback()
                    raise
            return Response.json(200, result)
        except SwError as exc:
            return Response.json(exc.status, exc.payload(), exc.headers)
