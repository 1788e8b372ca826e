"""The Prisma Cloud Microsegmentation console API emulator.

Request processing follows the order of the real framework: route lookup (404), query
parameters (400), operation allowed for the identity (405), authentication (401), target
namespace (400/403), body decoding (400), model validation (422), then the operation itself
(404 for a missing object, 422 for read-only/creation-only/protected/duplicate errors).

``Idempotency-Key`` is kept with the object, as the console keeps its non-exposed
``createIdempotencyKey``/``updateIdempotencyKey``: in ``obj["_meta"]`` (never serialized to JSON,
persisted with the object in SQLite). A POST whose key created an object that still exists in the
same identity and namespace answers that object again and creates nothing; a PUT whose key made
the object's last update answers the object again and changes nothing.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import logging
import operator
import os
import time
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..common.persistence import SqlitePersistence
from ..common.pki import CertificateAuthority, cert_pem, key_pem, write_private
from ..common.server import Product, Request, Response, format_seconds
from . import codec, flows, qfilter, schema, workloads
from .auth import TokenAuthority
from .errors import (
    ApiError,
    bad_request,
    error,
    forbidden,
    not_allowed,
    not_found,
    object_not_found,
    unauthorized,
    validation,
)
from .store import Store, ancestors_of, child_namespace_name, is_descendant, new_id
from .validation import parse_go_duration
from .validation import validate as validate_model

ROOT_NAMESPACE = "/acme"
APPCRED_FILE = "prisma-appcred.json"
SQLITE_FILE = "prisma.sqlite"
STATIC_TOKEN_FILE = "prisma-token"

# The tag key the console puts on objects created by an import is not public (the import
# service is closed source); the lab uses ``import:label=<label>`` in ``associatedTags``.
IMPORT_LABEL_KEY = "import:label"

# The console answers a write to a protected object without ``override=true`` with an error
# whose status and text are not public. The lab's choice (an assumption) is this 422.
PROTECTED_TITLE = "Protected Object"
PROTECTED_DESCRIPTION = "The object is protected. Set the query parameter override=true to modify or delete it."

# Namespace types for which the console creates a default service dependency policy ("for every
# new @group or @k8s namespace ... a default service dependency policy is automatically
# created"). Its real name and content are not public: the lab creates ``default`` allowing the
# processing units of the namespace to reach the services of the namespace.
DEFAULT_SDP_NAMESPACE_TYPES = ("Group", "Kubernetes")
DEFAULT_SDP_NAME = "default"

OPERATION_NAMES = {
    "list": "RetrieveMany", "info": "Info", "get": "Retrieve", "info_one": "Info", "create": "Create",
    "update": "Update", "delete": "Delete", "patch": "Patch", "child": "RetrieveMany", "child_info": "Info",
}
# Hidden attributes kept in obj["_meta"]: the Idempotency-Key of the POST that created the object
# (indexed by the store) and of the PUT that last updated it.
CREATE_KEY = "createIdempotencyKey"
UPDATE_KEY = "updateIdempotencyKey"
STATIC_TOKEN_VALIDITY = 10 * 365 * 24 * 3600
_BY_ID = operator.itemgetter("ID")
# The JSON text of the stored objects answered lately, kept for their next answers (at most this many, the
# oldest one dropped for a new one).
ENCODED_CACHE_SIZE = 50_000
# json.dumps(obj, separators=(",", ":")) of an encoded stored object: the same text, without the check for
# circular references (an object decoded from JSON and completed by the lab cannot contain itself)
_object_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


@dataclass
class Call:
    request: Request
    identity: schema.Identity
    op: str
    object_id: str | None = None
    child: str | None = None
    namespace: str = "/"
    params: dict = field(default_factory=dict)
    page: int = 0
    pagesize: int = 0
    limit: int = 0
    after: str = ""
    recursive: bool = False
    propagated: bool = False
    override: bool = False
    order: list[str] = field(default_factory=list)
    fields: list[str] | None = None
    filters: list = field(default_factory=list)


def _bool_param(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0", ""):
        return False
    raise ApiError(error(400, "Invalid Parameter", "Parameter '%s' must be a boolean, got '%s'" % (name, value)))


class PrismaProduct(Product):
    name = "prisma"

    def __init__(self, state_dir: str, sqlite: bool = False, logger: logging.Logger | None = None) -> None:
        self.state_dir = state_dir
        self.logger = logger or logging.getLogger("microseg_lab.prisma")
        self.persistence = SqlitePersistence(os.path.join(state_dir, SQLITE_FILE)) if sqlite else None
        self.store = Store(self.persistence)
        self.tokens = TokenAuthority(state_dir)
        self.base_url = ""
        self.static_token = ""
        self.ca: CertificateAuthority | None = None
        self.appcred_path = os.path.join(state_dir, APPCRED_FILE)
        # id(stored object) -> (the object, its JSON text with every attribute, encoded), oldest first; see _json_of
        self._encoded: collections.OrderedDict[int, tuple[dict, bytes]] = collections.OrderedDict()
        loaded = self.store.load()
        if self.store.namespace(ROOT_NAMESPACE) is None:
            self._seed()
        self.workloads: dict[str, list[dict]] = {}
        self._load_workloads()
        self.logger.info("prisma: %d object(s) loaded%s", loaded, " from SQLite" if self.persistence else "")
        self.flows = flows.FlowStore(self.persistence)
        flow_count = self.flows.load()
        # A recording named by labctl.py start --prisma-flows (a bad file stops the start).
        self.flow_recording = os.environ.get(flows.FLOWS_ENV) or ""
        self._seed_flows()
        self.logger.info("prisma: %d flow(s) loaded%s, %d in all", flow_count, " from SQLite" if self.persistence else "",
                         self.flows.counts()["total"])

    # ---------------------------------------------------------------- lifecycle

    def start(self, base_url: str, ca: CertificateAuthority) -> None:
        """Called once the port is known: token issuer, static token, app credential file."""
        self.base_url = base_url
        self.ca = ca
        self.tokens.issuer = base_url
        # The static token is kept in the state directory so it stays the same across restarts.
        token_path = os.path.join(self.state_dir, STATIC_TOKEN_FILE)
        token = None
        if os.path.exists(token_path):
            with open(token_path) as handle:
                token = handle.read().strip()
        claims = self.tokens.verify(token) if token else None
        if claims and claims.get("exp", 0) - time.time() > 365 * 24 * 3600:
            self.static_token = token
        else:
            self.static_token = self.tokens.mint("lab", "lab-admin", STATIC_TOKEN_VALIDITY, {"account": "lab"})
            write_private(token_path, (self.static_token + "\n").encode())
        self._write_appcred()

    def _write_appcred(self) -> None:
        existing = None
        if os.path.exists(self.appcred_path):
            try:
                with open(self.appcred_path) as handle:
                    existing = json.load(handle)
                cert = x509.load_pem_x509_certificate(base64.b64decode(existing["certificate"]))
                serialization.load_pem_private_key(base64.b64decode(existing["certificateKey"]), password=None)
                if not self.ca.signed(cert):
                    existing = None
            except (OSError, ValueError, KeyError, TypeError):
                existing = None
        if existing is None:
            ident = new_id()
            name = "lab-appcred"
            cert, key = self.ca.issue_client("app:credential:%s:%s" % (ident, name), ROOT_NAMESPACE)
            existing = {
                "ID": ident,
                "name": name,
                "namespace": ROOT_NAMESPACE,
                "certificate": base64.b64encode(cert_pem(cert)).decode(),
                "certificateKey": base64.b64encode(key_pem(key)).decode(),
            }
        existing["APIURL"] = self.base_url
        existing["certificateAuthority"] = base64.b64encode(self.ca.pem).decode()
        ordered = {k: existing[k] for k in ("APIURL", "ID", "name", "namespace", "certificate", "certificateKey", "certificateAuthority")}
        write_private(self.appcred_path, (json.dumps(ordered, indent=2) + "\n").encode())

    def describe(self) -> dict:
        return {
            "url": self.base_url,
            "token": self.static_token,
            "namespace": ROOT_NAMESPACE,
            "ca_path": self.ca.cert_path if self.ca else "",
            "app_credential": self.appcred_path,
        }

    def env(self) -> dict[str, str]:
        return {
            "PRISMA_API": self.base_url,
            "PRISMA_TOKEN": self.static_token,
            "PRISMA_NAMESPACE": ROOT_NAMESPACE,
            "PRISMA_CA_PATH": self.ca.cert_path if self.ca else "",
        }

    def reset(self) -> None:
        with self.store.lock:
            self.store.wipe()
            self._encoded.clear()
            self._seed()
            self._load_workloads()
            # the database (flows included) was wiped with the objects; the recording, if any, is loaded again
            self.flows.forget()
            try:
                self._seed_flows()
            except (OSError, ValueError) as exc:
                self.logger.error("prisma: flow recording ignored: %s", exc)

    def close(self) -> None:
        if self.persistence is not None:
            self.persistence.close()

    def _seed(self) -> None:
        now = codec.now_text()
        obj = codec.new_object(schema.NAMESPACE)
        obj.update({
            "ID": new_id(), "name": ROOT_NAMESPACE, "namespace": "/", "type": "Tenant",
            "description": "Lab tenant namespace", "createTime": now, "updateTime": now,
        })
        obj["normalizedTags"] = self._normalized_tags(schema.NAMESPACE, obj)
        self.store.put("namespace", obj)

    # ---------------------------------------------------------------- server hooks

    def canonical_path(self, path: str) -> str:
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 2 and segments[0] == "v":
            segments = segments[2:]
        return "/" + "/".join(segments)

    def route_key(self, method: str, path: str) -> str:
        segments = [s for s in self.canonical_path(path).split("/") if s]
        if len(segments) >= 2 and segments[0] != "_meta":
            segments[1] = ":id"
        return "/" + "/".join(segments)

    def error_response(self, status: int, retry_after: float | None = None) -> Response:
        titles = {
            429: ("Rate Limit", "You have exceeded your rate limit"),
            500: ("Internal Server Error", "The server encountered an internal error"),
            502: ("Bad Gateway", "The server received an invalid response from an upstream server"),
            503: ("Service Unavailable", "The service is temporarily unavailable, please retry later"),
            504: ("Gateway Timeout", "The upstream server did not answer in time"),
            423: ("Locked", "This api is currently locked. Please try again later"),
        }
        title, description = titles.get(status, ("Error", "Injected error"))
        headers = [("Retry-After", format_seconds(retry_after))] if retry_after is not None else []
        return Response.json(status, ApiError(error(status, title, description, "bahamut")).payload(), headers)

    # ---------------------------------------------------------------- dispatch

    def handle(self, request: Request) -> Response:
        try:
            return self._dispatch(request)
        except ApiError as exc:
            return Response.json(exc.status, exc.payload(), exc.headers)
        except qfilter.FilterError as exc:
            return Response.json(400, ApiError(error(400, "Bad Request", "Unable to parse filter: %s" % exc)).payload())

    def _segments(self, path: str) -> list[str]:
        segments = path.split("/")[1:]
        if segments and segments[-1] == "":
            segments = segments[:-1]
        if segments and segments[0] == "v":
            if len(segments) < 2 or not segments[1].isdigit():
                raise bad_request("Invalid api version number '%s'" % (segments[1] if len(segments) > 1 else ""))
            segments = segments[2:]
        return segments

    def _dispatch(self, request: Request) -> Response:
        segments = self._segments(request.path)
        if not segments or any(s == "" for s in segments):
            raise not_found()
        if segments[0] == "_meta":
            if segments == ["_meta", "config"] and request.method in ("GET", "HEAD"):
                return self._meta_config()
            raise not_found()
        identity = schema.BY_RESOURCE.get(segments[0])
        if identity is None:
            raise not_found()
        if len(segments) > 3:
            raise bad_request("%s is not a valid elemental request path" % request.path)
        self._check_encoding(request)

        op, allowed, declared, category = self._operation(request.method, segments, identity)
        call = Call(request=request, identity=identity, op=op)
        if len(segments) >= 2:
            call.object_id = segments[1]
        if len(segments) == 3:
            call.child = segments[2]
        self._parse_params(call, declared)
        if not allowed:
            raise not_allowed(OPERATION_NAMES.get(op, request.method.capitalize()), category)

        public = identity is schema.ISSUE
        if not public:
            self._authenticate(request)
            call.namespace = self._namespace(request)
        self._parse_filters(call)
        fields = [f.strip() for value in request.header_values("X-Fields") for f in value.split(",") if f.strip()]
        call.fields = fields or None
        return self._route(call)

    @staticmethod
    def _check_encoding(request: Request) -> None:
        """Content-Type and Accept as the framework checks them (the lab speaks JSON only, no msgpack)."""
        ctype = request.header("Content-Type")
        if ctype:
            media = ctype.split(";")[0].strip().lower()
            if media not in ("application/json", "application/*", "*/*"):
                raise ApiError(error(415, "Unsupported Media Type",
                                     "Cannot find any acceptable Content-Type media type in provided header: %s" % ctype))
        accept = request.header("Accept")
        if accept:
            types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
            if not any(t in ("application/json", "application/*", "*/*") for t in types):
                raise ApiError(error(415, "Unsupported Media Type",
                                     "Cannot find any acceptable Accept media type in provided header: %s" % accept))

    def _operation(self, method: str, segments: list[str], identity: schema.Identity):
        """(operation, allowed, declared parameters, category used in the 405 message)."""
        count = len(segments)
        ops = identity.ops
        params = identity.params
        category = identity.resource
        if count == 3:
            child = segments[2]
            if child not in identity.relations:
                raise not_found()
            category = child
            if method == "GET":
                return "child", True, identity.relations[child], category
            if method == "HEAD":
                return "child_info", True, identity.relations[child], category
            op = {"POST": "create", "PUT": "update", "DELETE": "delete", "PATCH": "patch"}.get(method, method.lower())
            return op, False, (), category
        if method == "GET":
            op = "list" if count == 1 else "get"
            return op, op in ops, params.get(op, ()), category
        if method == "HEAD":
            op = "info" if count == 1 else "info_one"
            needed = "list" if count == 1 else "get"
            return op, needed in ops, params.get(needed, ()), category
        if method == "POST":
            return "create", count == 1 and "create" in ops, params.get("create", ()), category
        if method == "PUT":
            return "update", count == 2 and "update" in ops, params.get("update", ()), category
        if method == "DELETE":
            return "delete", count == 2 and "delete" in ops, params.get("delete", ()), category
        if method == "PATCH":
            return "patch", False, (), category
        return method.lower(), False, (), category

    def _parse_params(self, call: Call, declared) -> None:
        query = {k: list(v) for k, v in call.request.query.items()}

        def first(name):
            values = query.pop(name, None)
            return values[0] if values else None

        value = first("page")
        if value:
            try:
                call.page = int(value)
            except ValueError:
                raise bad_request("Parameter `page` must be an integer") from None
        value = first("pagesize")
        if value:
            try:
                call.pagesize = int(value)
            except ValueError:
                raise bad_request("Parameter `pagesize` must be an integer") from None
        call.recursive = bool(first("recursive"))
        call.propagated = bool(first("propagated"))
        call.override = bool(first("override"))
        if "order" in query:
            orders = query.pop("order")
            if any(o in ("", "\x00") for o in orders):
                raise bad_request("Parameter `order` must be set when provided")
            call.order = orders
        value = first("limit")
        if value:
            if call.pagesize:
                raise bad_request("You cannot set 'limit' and 'pagesize' at the same time")
            try:
                call.limit = int(value)
            except ValueError:
                raise bad_request("Parameter `limit` must be an integer") from None
        value = first("after")
        if value:
            if len(call.order) > 1:
                raise bad_request("You can only order on a single field when using 'after'")
            if call.page:
                raise bad_request("You cannot set 'after' and 'page' at the same time")
            call.after = value
        for pdef in declared:
            values = query.pop(pdef.name, [])
            if not pdef.multiple and len(values) > 1:
                raise ApiError(error(400, "Invalid Parameter", "Parameter '%s' must be sent only once" % pdef.name))
            parsed = []
            for raw in values:
                if pdef.type == "boolean":
                    parsed.append(_bool_param(pdef.name, raw))
                elif pdef.type == "enum":
                    if raw not in pdef.choices:
                        raise ApiError(error(400, "Invalid Parameter", "Parameter '%s' must be one of '%s', got '%s'"
                                             % (pdef.name, ", ".join(pdef.choices), raw)))
                    parsed.append(raw)
                else:
                    parsed.append(raw)
            if not parsed and pdef.default is not None:
                parsed = [pdef.default]
            call.params[pdef.name] = parsed
        if query:
            raise ApiError([error(400, "Bad Request", "Unknown parameter: `%s`" % key) for key in query])

    def _parse_filters(self, call: Call) -> None:
        for text in call.params.get("q", []):
            node = qfilter.parse(text)
            qfilter.validate_regexes(node)
            call.filters.append(node)

    def _param(self, call: Call, name: str, default=None):
        values = call.params.get(name) or []
        return values[0] if values else default

    def _authenticate(self, request: Request) -> dict:
        parts = (request.header("Authorization") or "").split(" ")
        if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1]:
            raise unauthorized()
        claims = self.tokens.verify(parts[1])
        if claims is None:
            raise unauthorized()
        return claims

    def _namespace(self, request: Request) -> str:
        namespace = (request.header("X-Namespace") or "").strip()
        if not namespace:
            raise bad_request("Missing X-Namespace header", "bahamut")
        if len(namespace) > 1:
            namespace = namespace.rstrip("/")
        # An X-Namespace that does not exist is answered like a namespace the caller may not
        # access (403, as the console does for a namespace outside the token's reach).
        if not self.store.namespace_exists(namespace):
            raise forbidden()
        return namespace

    # ---------------------------------------------------------------- idempotency

    @staticmethod
    def _idempotency_key(call: Call) -> str:
        return (call.request.header("Idempotency-Key") or "").strip()

    @staticmethod
    def _without_update_key(obj: dict) -> dict:
        """A copy of ``obj`` for a change made by another request than a keyed PUT (its PUT key no longer replays)."""
        out = dict(obj)
        meta = {k: v for k, v in (obj.get("_meta") or {}).items() if k != UPDATE_KEY}
        if meta:
            out["_meta"] = meta
        else:
            out.pop("_meta", None)
        return out

    # ---------------------------------------------------------------- routing

    def _route(self, call: Call) -> Response:
        identity = call.identity
        if identity is schema.ISSUE:
            return self._issue(call)
        if identity is schema.IMPORT:
            return self._import(call)
        if identity is schema.EXPORT:
            return self._export(call)
        if identity is schema.PUTRAFFICACTION:
            return self._putrafficaction(call)
        if identity is schema.TAGPREFIX:
            return self._tagprefix(call)
        if identity is schema.FLOWREPORT:
            return self._flowreport(call)
        if identity is schema.STATSQUERY:
            return self._statsquery(call)
        op = call.op
        if op in ("list", "info"):
            return self._list(call)
        if op in ("get", "info_one"):
            return self._get(call)
        if op == "create":
            return self._create(call)
        if op == "update":
            return self._update(call)
        if op == "delete":
            return self._delete(call)
        if op in ("child", "child_info"):
            return self._relation(call)
        raise not_allowed(OPERATION_NAMES.get(op, op), identity.resource)

    # ---------------------------------------------------------------- helpers

    def _json_body(self, call: Call):
        body = call.request.body
        if not body.strip():
            return {}
        try:
            return json.loads(body)
        except ValueError as exc:
            raise bad_request("unable to decode application/json: %s" % exc, "bahamut") from None

    def _respond(self, call: Call, identity: schema.Identity, obj: dict, status: int = 200, keep: bool = True) -> Response:
        if call.fields is None:
            return Response.json_body(status, self._json_of(identity, obj, keep))
        return Response.json(status, codec.encode(identity, obj, call.fields))

    def _json_of(self, identity: schema.Identity, obj: dict, keep: bool = True) -> bytes:
        """``json.dumps`` of ``codec.encode(identity, obj)`` for an object of the store, encoded.

        Stored objects are never changed in place (an update stores a new dict), so the text made
        for one answer serves the next ones: a list of 1,000 objects just created costs a join.
        The entry holds the object, so its id cannot be reused while the entry exists. ``keep``
        false (a deleted object) uses the text kept, if any, without keeping a new one.
        """
        entry = self._encoded.get(id(obj)) if keep else self._encoded.pop(id(obj), None)
        if entry is not None and entry[0] is obj:
            return entry[1]
        text = _object_json(codec.encode(identity, obj)).encode()
        if keep:
            if len(self._encoded) >= ENCODED_CACHE_SIZE:
                try:
                    self._encoded.popitem(last=False)  # the text kept first makes room
                except KeyError:  # emptied meanwhile (a reset)
                    pass
            self._encoded[id(obj)] = (obj, text)
        return text

    def _normalized_tags(self, identity: schema.Identity, obj: dict) -> list[str]:
        tags = ["$identity=%s" % identity.name]
        if "name" in obj:
            tags.append("$name=%s" % obj["name"])
        tags.append("$namespace=%s" % obj["namespace"])
        tags.append("$id=%s" % obj["ID"])
        for tag in list(obj.get("associatedTags", [])) + list(obj.get("metadata", [])):
            if tag not in tags:
                tags.append(tag)
        return tags

    def _visible(self, call: Call, obj: dict) -> bool:
        namespace = obj["namespace"]
        if namespace == call.namespace:
            return True
        if call.recursive and is_descendant(namespace, call.namespace):
            return True
        if call.propagated and call.identity.has_propagate and obj.get("propagate") and namespace in ancestors_of(call.namespace):
            return True
        return False

    def _lookup(self, call: Call) -> dict:
        obj = self.store.get(call.identity.name, call.object_id)
        if obj is None or not self._visible(call, obj):
            raise object_not_found()
        return obj

    def _matches(self, call: Call, identity: schema.Identity, obj: dict) -> bool:
        if not call.filters:
            return True
        return any(qfilter.evaluate(node, identity, obj) for node in call.filters)

    def _collect(self, call: Call, identity: schema.Identity) -> list[dict]:
        namespaces = [call.namespace]
        if call.recursive:
            namespaces += self.store.namespaces_under(identity.name, call.namespace)
        objects = self.store.in_namespaces(identity.name, namespaces)
        if call.propagated and identity.has_propagate:
            objects += [o for o in self.store.in_namespaces(identity.name, ancestors_of(call.namespace)) if o.get("propagate")]
        if not call.filters:
            return objects
        return [o for o in objects if self._matches(call, identity, o)]

    def _sorted(self, call: Call, identity: schema.Identity, objects: list[dict]) -> list[dict]:
        objects = sorted(objects, key=_BY_ID)
        keys = call.order or list(identity.default_order)
        for key in reversed(keys):
            descending = key.startswith("-")
            attr = identity.attr_ci(key.lstrip("-+"))
            if attr is None:
                continue
            values = [o.get(attr.name) for o in objects]
            if all(type(v) is str for v in values):  # pylint: disable=unidiomatic-typecheck
                # all strings (names): ordered by the strings, as sort_key's (2, value) orders them
                order = sorted(range(len(objects)), key=values.__getitem__, reverse=descending)
                objects = [objects[i] for i in order]
                continue

            def sort_key(o, name=attr.name):
                value = o.get(name)
                if value is None:
                    return (0, "")
                if isinstance(value, bool):
                    return (1, int(value))
                if isinstance(value, (int, float)):
                    return (1, value)
                if isinstance(value, str):
                    return (2, value)
                return (3, json.dumps(value, sort_keys=True))

            objects.sort(key=sort_key, reverse=descending)
        return objects

    def _protected_check(self, call: Call, obj: dict) -> None:
        if obj.get("protected") and not call.override:
            raise ApiError(error(422, PROTECTED_TITLE, PROTECTED_DESCRIPTION, "elemental"))

    def _decode_validate(self, identity: schema.Identity, payload) -> dict:
        obj = codec.decode(identity, payload)
        errors = validate_model(identity, obj)
        if errors:
            raise ApiError(errors)
        return obj

    def _read_only_on_create(self, identity: schema.Identity, obj: dict) -> None:
        errors = []
        read_only = identity.derived.get("read_only")
        if read_only is None:
            read_only = identity.derived["read_only"] = [(n, a) for n, a in identity.attrs.items() if a.read_only and not a.transient]
        for name, attr in read_only:
            value = obj.get(name)
            if codec.is_zero(attr, value) or (attr.default is not None and value == attr.default):
                continue
            errors.append(error(422, "Read Only Error", "Field %s is read only. You cannot set its value." % name, "elemental", name))
        if errors:
            raise ApiError(errors)

    def _read_only_on_update(self, identity: schema.Identity, obj: dict, existing: dict) -> None:
        errors = []
        for name, attr in identity.attrs.items():
            if attr.transient or not (attr.read_only or attr.creation_only):
                continue
            if codec.values_equal(attr, obj.get(name), existing.get(name)):
                continue
            if attr.creation_only:
                errors.append(error(422, "Creation Only Error",
                                    "Field %s can only be set during creation. You cannot modify its value." % name, "elemental", name))
            else:
                errors.append(error(422, "Read Only Error", "Field %s is read only. You cannot modify its value." % name, "elemental", name))
        if errors:
            raise ApiError(errors)

    # ---------------------------------------------------------------- CRUD

    def _list(self, call: Call) -> Response:
        identity = call.identity
        objects = self._sorted(call, identity, self._collect(call, identity))
        total = len(objects)
        headers = [("X-Count-Total", str(total))]
        if call.op == "info":
            return Response(204, b"", headers)
        if call.limit > 0:
            start = 0
            if call.after:
                for index, obj in enumerate(objects):
                    if obj["ID"] == call.after:
                        start = index + 1
                        break
            page = objects[start:start + call.limit]
            if start + call.limit < total and page:
                headers.append(("X-Next", page[-1]["ID"]))
            objects = page
        elif call.pagesize > 0:
            page = max(call.page, 1)
            objects = objects[(page - 1) * call.pagesize:page * call.pagesize]
        if call.fields is None:
            # the JSON array json.dumps would write: the objects' texts joined by commas
            return Response.json_body(200, b"[" + b",".join([self._json_of(identity, o) for o in objects]) + b"]", headers)
        payload = [codec.encode(identity, o, call.fields) for o in objects]
        return Response.json(200, payload, headers)

    def _get(self, call: Call) -> Response:
        obj = self._lookup(call)
        if call.op == "info_one":
            return Response(204, b"", [("X-Count-Total", "1")])
        return self._respond(call, call.identity, obj)

    def _create(self, call: Call) -> Response:
        identity = call.identity
        obj = self._decode_validate(identity, self._json_body(call))
        self._read_only_on_create(identity, obj)
        key = self._idempotency_key(call)
        with self.store.lock:
            # Under the store lock, so concurrent POSTs with one key create one object.
            created = self.store.created_with_key(identity.name, call.namespace, key) if key else None
            if created is None:
                created = self._insert(identity, obj, call.namespace, meta={CREATE_KEY: key} if key else None)
        return self._respond(call, identity, created)

    def _insert(self, identity: schema.Identity, obj: dict, namespace: str, extra_tags: list[str] | None = None,
                meta: dict | None = None) -> dict:
        """Store a validated new object in ``namespace`` (caller holds the store lock)."""
        now = codec.now_text()
        obj = dict(obj)
        if identity is schema.NAMESPACE:
            full_name = child_namespace_name(namespace, obj["name"])
            if self.store.namespace(full_name) is not None:
                raise ApiError(error(422, "Duplicate Key", "Another object exists with the same key", "elemental"))
            obj["name"] = full_name
        if extra_tags:
            obj["associatedTags"] = list(obj["associatedTags"]) + [t for t in extra_tags if t not in obj["associatedTags"]]
        obj["ID"] = new_id()
        obj["namespace"] = namespace
        obj["createTime"] = now
        obj["updateTime"] = now
        obj["normalizedTags"] = self._normalized_tags(identity, obj)
        if meta:
            obj["_meta"] = meta
        items = [(identity.name, obj)]
        if identity is schema.NAMESPACE and obj["type"] in DEFAULT_SDP_NAMESPACE_TYPES:
            items.append(("servicedependencypolicy", self._default_sdp(obj["name"], now)))
        if identity is schema.NAMESPACE:
            items += [("processingunit", pu) for pu in self._workload_units(obj["name"], now)]
        self.store.put_many(items)
        return obj

    def _default_sdp(self, namespace: str, now: str) -> dict:
        sdp = codec.new_object(schema.SERVICEDEPENDENCYPOLICY)
        sdp.update({
            "ID": new_id(), "name": DEFAULT_SDP_NAME, "namespace": namespace, "createTime": now, "updateTime": now,
            "description": "Default service dependency policy of the namespace",
            "subject": [["$identity=processingunit", "$namespace=%s" % namespace]],
            "object": [["$identity=service", "$namespace=%s" % namespace]],
        })
        sdp["normalizedTags"] = self._normalized_tags(schema.SERVICEDEPENDENCYPOLICY, sdp)
        return sdp

    def _update(self, call: Call) -> Response:
        identity = call.identity
        obj = self._decode_validate(identity, self._json_body(call))
        key = self._idempotency_key(call)
        with self.store.lock:
            existing = self._lookup(call)
            if key and (existing.get("_meta") or {}).get(UPDATE_KEY) == key:
                # a replay of the PUT that made the last update: answered again, nothing changes
                return self._respond(call, identity, existing)
            obj["ID"] = existing["ID"]
            self._protected_check(call, existing)
            self._read_only_on_update(identity, obj, existing)
            updated = dict(obj)
            for name in ("ID", "namespace", "createTime"):
                updated[name] = existing[name]
            if identity is schema.NAMESPACE:
                updated["name"] = existing["name"]
            meta = {k: v for k, v in (existing.get("_meta") or {}).items() if k != UPDATE_KEY}
            if key:
                meta[UPDATE_KEY] = key
            if meta:
                updated["_meta"] = meta
            updated["updateTime"] = codec.now_text()
            updated["normalizedTags"] = self._normalized_tags(identity, updated)
            self.store.put(identity.name, updated)
            self._encoded.pop(id(existing), None)
        return self._respond(call, identity, updated)

    def _delete(self, call: Call) -> Response:
        identity = call.identity
        with self.store.lock:
            existing = self._lookup(call)
            if not self._matches(call, identity, existing):
                raise object_not_found()
            self._protected_check(call, existing)
            items = [(identity.name, existing)]
            if identity is schema.NAMESPACE:
                items += self.store.everything_under(existing["name"])
            self.store.delete_many(items)
        return self._respond(call, identity, existing, keep=False)

    # ---------------------------------------------------------------- simulated enforcers

    WORKLOADS_META = "workloads"
    WORKLOADS_ROUTE = "/_lab/prisma/workloads"

    def _load_workloads(self) -> None:
        """The fixture file, then the admin route's changes kept in SQLite; report the units of existing namespaces."""
        try:
            mapping = workloads.load_file()
        except (OSError, ValueError) as exc:
            self.logger.error("prisma: workloads fixture ignored: %s", exc)
            mapping = {}
        if self.persistence is not None:
            saved = self.persistence.get_meta(self.WORKLOADS_META)
            if saved:
                mapping.update(workloads.parse(json.loads(saved)))
        self.workloads = mapping
        self._report_workloads()

    def _workload_units(self, namespace: str, now: str) -> list[dict]:
        """New processing units for the fixture entries of ``namespace`` that it does not hold yet (by name)."""
        units = self.workloads.get(namespace) or []
        if not units:
            return []
        have = {o["name"] for o in self.store.in_namespace("processingunit", namespace)}
        out = []
        for unit in units:
            if unit["name"] in have:
                continue
            obj = codec.new_object(schema.PROCESSINGUNIT)
            obj.update(workloads.unit_object(unit))
            obj.update({"ID": new_id(), "namespace": namespace, "createTime": now, "updateTime": now,
                        "enforcerNamespace": namespace})
            if not obj["nativeContextID"]:
                obj["nativeContextID"] = obj["ID"][-12:]
            obj["normalizedTags"] = self._normalized_tags(schema.PROCESSINGUNIT, obj)
            out.append(obj)
        return out

    def _report_workloads(self) -> int:
        now = codec.now_text()
        with self.store.lock:
            items = []
            for namespace in self.workloads:
                if self.store.namespace(namespace) is not None:
                    items += [("processingunit", pu) for pu in self._workload_units(namespace, now)]
            if items:
                self.store.put_many(items)
        return len(items)

    def lab_admin(self, request: Request) -> Response | None:
        """``/_lab/prisma/workloads``: GET the fixture in use, PUT a new one, POST namespaces to add (admin route).
        ``/_lab/prisma/flows``: see ``_flows_admin``."""
        if request.path.rstrip("/") == self.FLOWS_ROUTE:
            return self._flows_admin(request)
        if request.path.rstrip("/") != self.WORKLOADS_ROUTE:
            return None
        if request.method not in ("GET", "PUT", "POST"):
            return Response.json(405, {"error": "use GET, PUT or POST on %s" % self.WORKLOADS_ROUTE})
        if request.method != "GET":
            try:
                mapping = workloads.parse(json.loads(request.body or b"null"))
            except ValueError as exc:
                return Response.json(400, {"error": str(exc)})
            with self.store.lock:
                if request.method == "PUT":
                    self.workloads = mapping
                else:
                    self.workloads.update(mapping)
                if self.persistence is not None:
                    self.persistence.set_meta(self.WORKLOADS_META, json.dumps(self.workloads))
                created = self._report_workloads()
            self.logger.info("workloads fixture %s: %d processing unit(s) reported", "replaced" if request.method == "PUT" else "extended",
                             created)
        return Response.json(200, self.workloads)

    # ---------------------------------------------------------------- flows (/flowreports, /statsqueries)

    FLOWS_ROUTE = "/_lab/prisma/flows"
    FLOWS_SEEDED_META = "flows-recording"

    def _seed_flows(self) -> None:
        """Load the recording given at start, once per database (with SQLite a restart keeps the flows it loaded)."""
        if not self.flow_recording:
            return
        if self.persistence is not None and self.persistence.get_meta(self.FLOWS_SEEDED_META):
            return
        items = flows.load_recording(self.flow_recording)
        self.flows.add(items)
        if self.persistence is not None:
            self.persistence.set_meta(self.FLOWS_SEEDED_META, self.flow_recording)
        self.logger.info("prisma: %d flow(s) loaded from %s", len(items), self.flow_recording)

    def _flowreport(self, call: Call) -> Response:
        """``POST /flowreports``: one flow report, or a list of them (all or nothing); answers what was stored."""
        payload = self._json_body(call)
        single = not isinstance(payload, list)
        now = time.time()
        decoded = [flows.decode(item, now) for item in ([payload] if single else payload)]
        for _epoch, flow in decoded:
            namespace = flow["namespace"]
            if namespace != call.namespace and not is_descendant(namespace, call.namespace):
                raise ApiError(validation("namespace", "Attribute 'namespace' must be the X-Namespace namespace (%s) or a namespace below it, "
                                                       "got '%s'" % (call.namespace, namespace)))
        stored = self.flows.add(decoded)
        encoded = [codec.encode(schema.FLOWREPORT, flow, call.fields) for flow in stored]
        return Response.json(200, encoded[0] if single else encoded)

    def _statsquery(self, call: Call) -> Response:
        """``POST /statsqueries``: InfluxDB-like series over the flows of the X-Namespace namespace and below it."""
        now = time.time()
        window = {p.name: self._param(call, p.name) for p in schema.TIMEWINDOW}
        start, end = flows.time_window(window, now)
        body = self._decode_validate(schema.STATSQUERY, self._json_body(call))
        self._read_only_on_create(schema.STATSQUERY, body)
        rows: list[dict] = []
        if body["measurement"] == flows.MEASUREMENT:
            query = flows.Query(body, call.filters)
            names, resolve = self._flow_resolver()
            rows = query.run(self.flows.visible(call.namespace), start, end, resolve, names)
        # the other measurements (audit, enforcers, packets, DNS lookups...) hold nothing in the lab
        body["results"] = [{"rows": rows}]
        return Response.json(200, codec.encode(schema.STATSQUERY, body, call.fields))

    def _flow_resolver(self):
        """(names, resolve): ``resolve`` answers a flow whose ends are named instead of identified with the IDs of the
        objects named; ``names`` are the names it knows, so that only flows with an end in ``names`` need it.

        A recording cannot know the IDs the lab gives processing units (they are created with their
        namespace), so a ``ProcessingUnit`` end may give the unit's name: it is answered with the ID of
        the unit of that name in the end's namespace (``sourceNamespace``/``destinationNamespace``), the
        flow's ``namespace`` or its ``remoteNamespace``. An ``ExternalNetwork`` end may give an external
        network's name: it is answered with the ID of the network of that name in the flow's namespace
        or the closest ancestor. Ends that name nothing existing are answered as reported.
        """
        with self.store.lock:
            units = {ns: {o["name"]: o["ID"] for o in bucket.values()} for ns, bucket in self.store.by_ns["processingunit"].items()}
            networks = {ns: {o["name"]: o["ID"] for o in bucket.values()} for ns, bucket in self.store.by_ns["externalnetwork"].items()}
        names = {name for mapping in list(units.values()) + list(networks.values()) for name in mapping}
        if not names:
            return None, None
        nowhere: dict[str, str] = {}

        def end(flow: dict, kind_key: str, id_key: str, ns_key: str) -> str | None:
            ident = flow.get(id_key)
            if ident not in names:
                return None
            kind = flow.get(kind_key)
            if kind == "ProcessingUnit":
                for namespace in (flow.get(ns_key), flow.get("namespace"), flow.get("remoteNamespace")):
                    found = units.get(namespace, nowhere).get(ident) if namespace else None
                    if found:
                        return found
            elif kind == "ExternalNetwork":
                namespace = flow.get("namespace") or "/"
                for candidate in [namespace] + ancestors_of(namespace):
                    found = networks.get(candidate, nowhere).get(ident)
                    if found:
                        return found
            return None

        def resolve(flow: dict) -> dict:
            source = end(flow, "sourceType", "sourceID", "sourceNamespace")
            destination = end(flow, "destinationType", "destinationID", "destinationNamespace")
            if source is None and destination is None:
                return flow
            flow = dict(flow)
            if source is not None:
                flow["sourceID"] = source
            if destination is not None:
                flow["destinationID"] = destination
            return flow

        return names, resolve

    def _flows_admin(self, request: Request) -> Response:
        """``/_lab/prisma/flows``: GET the count per namespace, PUT (replace) or POST (add) recorded flows, DELETE them all."""
        method = request.method
        if method not in ("GET", "PUT", "POST", "DELETE"):
            return Response.json(405, {"error": "use GET, PUT, POST or DELETE on %s" % self.FLOWS_ROUTE})
        added = None
        if method == "DELETE":
            self.flows.clear()
        elif method in ("PUT", "POST"):
            try:
                items = flows.decode_recording(json.loads(request.body or b"null"))
            except ValueError as exc:
                return Response.json(400, {"error": str(exc)})
            with self.flows.lock:
                if method == "PUT":
                    self.flows.clear()
                self.flows.add(items)
            added = len(items)
            self.logger.info("flows %s: %d flow(s)", "replaced" if method == "PUT" else "added", added)
        out = self.flows.counts()
        if added is not None:
            out["added"] = added
        return Response.json(200, out)

    # ---------------------------------------------------------------- relations

    @staticmethod
    def _tag_matches(wanted: str, tags: list[str]) -> bool:
        # '*' at the end of a value is treated as a prefix wildcard (the console's matcher is
        # not public; real policy files use it on $namespace).
        if wanted.endswith("*"):
            return any(tag.startswith(wanted[:-1]) for tag in tags)
        return wanted in tags

    def _expression_matches(self, expression: list[list[str]], obj: dict, tags: list[str] | None = None) -> bool:
        tags = obj.get("normalizedTags", []) if tags is None else tags
        return any(clause and all(self._tag_matches(t, tags) for t in clause) for clause in expression)

    def _usable_tags(self, pu: dict) -> list[str]:
        """A processing unit's tags a policy can use: generated (``$``) and metadata (``@``) tags, and user tags
        starting with a ``tagPrefixes`` entry of its namespace or an ancestor (only those are sent on the wire)."""
        prefixes = []
        for name in [pu["namespace"]] + ancestors_of(pu["namespace"]):
            namespace = self.store.namespace(name)
            if namespace is not None:
                prefixes += [p for p in namespace.get("tagPrefixes") or [] if p]
        return [t for t in pu.get("normalizedTags", []) if t[:1] in ("$", "@") or any(t.startswith(p) for p in prefixes)]

    def _relation(self, call: Call) -> Response:
        parent = self._lookup(call)
        identity = call.identity
        child = call.child
        expression: list[list[str]] = []
        target = None
        scope = None
        if identity is schema.NETWORKRULESETPOLICY:
            mode = self._param(call, "mode", "object")
            if mode == "subject":
                expression = parent["subject"]
            else:
                for rule in parent["incomingRules"] + parent["outgoingRules"]:
                    expression = expression + rule["object"]
            target = {"externalnetworks": schema.EXTERNALNETWORK, "services": schema.SERVICE,
                      "processingunits": schema.PROCESSINGUNIT}.get(child)
            if target is schema.PROCESSINGUNIT and mode == "subject":
                # the subject selects units of the ruleset's namespace, or of its children when propagated
                scope = parent
        elif identity is schema.SERVICEDEPENDENCYPOLICY and child == "services":
            expression, target = parent["object"], schema.SERVICE
        elif identity is schema.ENFORCERPROFILEMAPPINGPOLICY and child == "enforcerprofiles":
            expression, target = parent["object"], schema.ENFORCERPROFILE
        results = []
        if target is not None:
            sub = Call(request=call.request, identity=target, op="list", namespace=call.namespace, recursive=True, propagated=True)
            candidates = self._sorted(sub, target, self._collect(sub, target))
            if target is schema.PROCESSINGUNIT:
                if scope is not None:
                    candidates = [o for o in candidates if o["namespace"] == scope["namespace"]
                                  or (scope.get("propagate") and is_descendant(o["namespace"], scope["namespace"]))]
                results = [o for o in candidates if self._expression_matches(expression, o, self._usable_tags(o))]
            else:
                results = [o for o in candidates if self._expression_matches(expression, o)]
        headers = [("X-Count-Total", str(len(results)))]
        if call.op == "child_info" or target is None:
            if call.op == "child_info":
                return Response(204, b"", headers)
            return Response.json(200, [], headers)
        return Response.json(200, [codec.encode(target, o, call.fields) for o in results], headers)

    # ---------------------------------------------------------------- namespace singletons

    def _namespace_object(self, call: Call) -> dict | None:
        return self.store.namespace(call.namespace)

    def _putrafficaction(self, call: Call) -> Response:
        identity = schema.PUTRAFFICACTION
        if call.op == "create":
            obj = self._decode_validate(identity, self._json_body(call))
            with self.store.lock:
                namespace = self._namespace_object(call)
                if namespace is not None:
                    updated = self._without_update_key(namespace)
                    updated["defaultPUIncomingTrafficAction"] = obj["Incoming"]
                    updated["defaultPUOutgoingTrafficAction"] = obj["Outgoing"]
                    updated["updateTime"] = codec.now_text()
                    self.store.put("namespace", updated)
            return Response.json(200, codec.encode(identity, obj))
        namespace = self._namespace_object(call)
        obj = {
            "Incoming": namespace["defaultPUIncomingTrafficAction"] if namespace else "Inherit",
            "Outgoing": namespace["defaultPUOutgoingTrafficAction"] if namespace else "Inherit",
        }
        if call.op == "info":
            return Response(204, b"", [("X-Count-Total", "1")])
        return Response.json(200, obj)

    def _tagprefix(self, call: Call) -> Response:
        identity = schema.TAGPREFIX
        if call.op == "create":
            obj = self._decode_validate(identity, self._json_body(call))
            with self.store.lock:
                namespace = self._namespace_object(call)
                if namespace is not None:
                    if namespace.get("protected") and not self._param(call, "force", False):
                        raise ApiError(error(422, PROTECTED_TITLE, PROTECTED_DESCRIPTION, "elemental"))
                    updated = self._without_update_key(namespace)
                    updated["tagPrefixes"] = list(obj["prefixes"])
                    updated["updateTime"] = codec.now_text()
                    self.store.put("namespace", updated)
            return Response.json(200, codec.encode(identity, obj))
        namespace = self._namespace_object(call)
        if call.op == "info":
            return Response(204, b"", [("X-Count-Total", "1")])
        return Response.json(200, {"prefixes": list(namespace["tagPrefixes"]) if namespace else []})

    # ---------------------------------------------------------------- /issue

    def _issue(self, call: Call) -> Response:
        identity = schema.ISSUE
        obj = self._decode_validate(identity, self._json_body(call))
        self._read_only_on_create(identity, obj)
        if obj["realm"] != "Certificate":
            raise unauthorized("The lab only issues tokens for the Certificate realm (app credentials)")
        cert = call.request.client_cert
        if not cert:
            raise unauthorized("No valid client certificate was presented for realm Certificate")
        subject = {k: v for rdn in cert.get("subject", ()) for k, v in rdn}
        validity = obj["validity"] or "24h"
        seconds = parse_go_duration(validity) or 24 * 3600
        if seconds <= 0:
            seconds = 24 * 3600
        common_name = subject.get("commonName", "")
        data = {"commonName": common_name, "organization": subject.get("organizationName", ""),
                "serialNumber": cert.get("serialNumber", "")}
        obj["token"] = self.tokens.mint("certificate", common_name or "app", seconds, data)
        obj["validity"] = validity
        obj["metadata"] = {}
        self.logger.info("issued a token for %s (validity %s)", common_name or "client certificate", validity)
        return Response.json(200, codec.encode(identity, obj))

    # A JSON object in the file this variable names replaces keys of /_meta/config, so that a test can
    # point the enforcer role at a repository of its own (read at every request).
    META_CONFIG_ENV = "MICROSEG_LAB_PRISMA_META_CONFIG"

    def _meta_config(self) -> Response:
        base = self.base_url or ""
        fingerprint = hashlib.sha256(self.ca.pem if self.ca else b"").hexdigest()
        config = {
            "repo": base + "/_lab/repo",
            "repo-signing-key": base + "/_lab/repo/signing-key.gpg",
            "tuf": base + "/_lab/tuf",
            "tuf-keys": json.dumps({"keys": [{"keytype": "lab", "keyid": fingerprint[:32]}]}, separators=(",", ":")),
        }
        override = os.environ.get(self.META_CONFIG_ENV)
        if override and os.path.isfile(override):
            with open(override, encoding="utf-8") as handle:
                config.update(json.load(handle))
        return Response.json(200, config)

    # ---------------------------------------------------------------- /export and /import

    def _export(self, call: Call) -> Response:
        obj = self._decode_validate(schema.EXPORT, self._json_body(call))
        self._read_only_on_create(schema.EXPORT, obj)
        identities = []
        for name in obj["identities"] or [i.name for i in schema.POLICY_IDENTITIES]:
            identity = schema.identity_from_any(name)
            if identity is None or identity not in schema.POLICY_IDENTITIES:
                raise ApiError(validation("identities", "Invalid identity '%s': unknown" % name, "gaia"))
            identities.append(identity)
        data = {}
        for identity in identities:
            sub = Call(request=call.request, identity=identity, op="list", namespace=call.namespace, filters=call.filters)
            objects = self._sorted(sub, identity, self._collect(sub, identity))
            data[identity.resource] = [self._exportable(identity, o) for o in objects]
        out = {"APIVersion": 1, "data": data, "identities": list(obj["identities"]), "label": obj["label"]}
        return Response.json(200, out)

    @staticmethod
    def _exportable(identity: schema.Identity, obj: dict) -> dict:
        encoded = codec.encode(identity, obj)
        for name, attr in identity.attrs.items():
            if attr.read_only or attr.autogenerated:
                encoded.pop(name, None)
        return encoded

    def _import(self, call: Call) -> Response:
        payload = self._json_body(call)
        obj = self._decode_validate(schema.IMPORT, payload)
        data = obj["data"] or {}
        export = self._decode_validate(schema.EXPORT, data)
        label = export["label"]
        mode = "Import" if obj["mode"] == "ReplacePartial" else obj["mode"]
        content = export["data"]
        identities: list[schema.Identity] = []
        for name in list(content) + list(export["identities"]):
            identity = schema.identity_from_any(name)
            if identity is None or identity not in schema.POLICY_IDENTITIES:
                raise ApiError(validation("data", "Invalid identity '%s': unknown" % name, "gaia"))
            if identity not in identities:
                identities.append(identity)
        if mode == "Remove" and not label:
            # Not public: what the console does for a Remove without label. The lab refuses it.
            raise ApiError(validation("label", "Attribute 'label' is required when mode is Remove", "gaia"))
        label_tag = "%s=%s" % (IMPORT_LABEL_KEY, label) if label else None

        # Decode and validate everything before touching the store (all or nothing).
        incoming: list[tuple[schema.Identity, dict, str]] = []
        errors: list[dict] = []
        if mode == "Import":
            for name, items in content.items():
                identity = schema.identity_from_any(name)
                if not isinstance(items, list):
                    raise bad_request("unable to decode application/json: data.%s must be a list" % name, "bahamut")
                for item in items:
                    if not isinstance(item, dict):
                        raise bad_request("unable to decode application/json: data.%s entries must be objects" % name, "bahamut")
                    clean = {k: v for k, v in item.items()
                             if not (k in identity.attrs and (identity.attrs[k].read_only or identity.attrs[k].autogenerated))}
                    decoded = codec.decode(identity, clean)
                    problems = validate_model(identity, decoded)
                    if problems:
                        errors.extend(problems)
                        continue
                    digest = hashlib.sha256(json.dumps([identity.name, codec.encode(identity, decoded), label],
                                                       sort_keys=True).encode()).hexdigest()
                    incoming.append((identity, decoded, digest))
        if errors:
            raise ApiError(errors)

        created = deleted = kept = 0
        with self.store.lock:
            existing: list[tuple[schema.Identity, dict]] = []
            if label_tag:
                targets = identities or list(schema.POLICY_IDENTITIES)
                for identity in targets:
                    for o in self.store.in_namespace(identity.name, call.namespace):
                        if label_tag in o.get("associatedTags", []):
                            existing.append((identity, o))
            wanted = {item[2] for item in incoming}
            have = {item[1].get("_meta", {}).get("importHash") for item in existing}
            to_delete = [(i.name, o) for i, o in existing if mode == "Remove" or o.get("_meta", {}).get("importHash") not in wanted]
            if to_delete:
                self.store.delete_many(to_delete)
                deleted = len(to_delete)
            for identity, decoded, digest in incoming:
                if label_tag and digest in have:
                    kept += 1
                    continue
                self._insert(identity, decoded, call.namespace, [label_tag] if label_tag else None, {"importHash": digest})
                created += 1
        self.logger.info("import %s label=%r: %d created, %d deleted, %d unchanged", mode, label, created, deleted, kept)
        return Response.json(200, {"data": data, "mode": obj["mode"]})
