# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VMware NSX-T: connection options, login, paging, errors and the pieces both APIs share."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.basic import env_fallback

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, Connection, HttpClient
from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import TagScheme
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError, validate_protocol_port

MANAGED_TAG = {"scope": "managed-by", "tag": "microseg.segmentation"}
REVISION_CONFLICTS = (409, 412)
REVISION_RETRIES = 3


def nsxt_argument_spec():
    """The connection options of every NSX-T module (documented in the ``nsxt`` fragment)."""
    return dict(
        host=dict(type="str", fallback=(env_fallback, ["NSXT_HOST", "NSX_MANAGER_HOST"])),
        username=dict(type="str", fallback=(env_fallback, ["NSXT_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["NSXT_PASSWORD"])),
        client_cert=dict(type="path", fallback=(env_fallback, ["NSXT_CLIENT_CERT"])),
        client_key=dict(type="path", no_log=False, fallback=(env_fallback, ["NSXT_CLIENT_KEY"])),
        session=dict(type="bool", default=False, fallback=(env_fallback, ["NSXT_SESSION"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["NSXT_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["NSXT_CA_PATH"])),
        timeout=dict(type="int", default=60, fallback=(env_fallback, ["NSXT_TIMEOUT"])),
        retries=dict(type="int", default=5, fallback=(env_fallback, ["NSXT_RETRIES"])),
    )


def parse_nsxt_error(data):
    """One sentence from an NSX error body, related errors included."""
    if not isinstance(data, dict) or "error_message" not in data:
        return None
    text = "%s (error_code %s)" % (data.get("error_message"), data.get("error_code"))
    related = [r.get("error_message") for r in data.get("related_errors") or [] if isinstance(r, dict) and r.get("error_message")]
    if related:
        text += ": " + "; ".join(related)
    return text


NSX_RATE_LIMIT = 100


class NsxtConnection(Connection):
    """An authenticated client for one module run (basic auth, a session, or a client certificate)."""

    def __init__(self, params):
        host = params.get("host")
        if not host:
            raise ApiError("host is required (or set NSXT_HOST): the NSX Manager as name[:port]")
        cert = None
        if params.get("client_cert"):
            cert = (params["client_cert"], params["client_key"]) if params.get("client_key") else params["client_cert"]
        elif not (params.get("username") and params.get("password")):
            raise ApiError("username and password (or client_cert) are required (or set NSXT_USERNAME and NSXT_PASSWORD)")
        base = host if host.startswith("https://") else "https://" + host
        self.client = HttpClient(
            base,
            validate_certs=params.get("validate_certs", True),
            ca_path=params.get("ca_path"),
            timeout=params.get("timeout") or 60,
            retries=params.get("retries"),
            client_cert=cert,
            error_parser=parse_nsxt_error,
            secrets=[params.get("password")],
            # NSX serves a client 100 requests a second by default (client_api_rate_limit; 429 above it)
            # and 40 at once (client_api_concurrency_limit, above the largest parallel of 32)
            rate_limit=NSX_RATE_LIMIT,
        )
        self._session = False
        if cert is None:
            if params.get("session"):
                self._login(params["username"], params["password"])
            else:
                self.client.set_basic_auth(params["username"], params["password"])

    def _login(self, username, password):
        """Session authentication: a form POST answered with the session cookie (kept by the
        client's session) and the ``X-XSRF-TOKEN`` header that every later request must echo."""
        # a replayed login only opens another session: it is retried like a read
        response = self.client.request("POST", "/api/session/create", form={"j_username": username, "j_password": password}, retry_write=True)
        token = response.headers.get("X-XSRF-TOKEN")
        if not token:
            raise ApiError("POST %s/api/session/create returned no X-XSRF-TOKEN header (status %s)" % (self.client.base_url, response.status),
                           status=response.status, method="POST", url=self.client.base_url + "/api/session/create")
        self.client.add_secret(token)
        self.client.set_header("X-XSRF-TOKEN", token)
        self._session = True

    def close(self):
        if self._session:
            try:
                self.client.request("POST", "/api/session/destroy")
            except ApiError:
                pass
            self._session = False
        super(NsxtConnection, self).close()

    def send(self, method, path, **kwargs):
        # PUT and PATCH address an object by id and DELETE removes one: replaying them cannot duplicate.
        if method in ("PUT", "PATCH", "DELETE"):
            kwargs.setdefault("retry_write", True)
        return self.client.request(method, path, **kwargs)

    def list_all(self, path, params=None, page_size=1000):
        """Every result of a list call, following the cursor."""
        results = []
        query = dict(params or {})
        query["page_size"] = page_size
        while True:
            data = self.request("GET", path, params=query) or {}
            results.extend(data.get("results") or [])
            cursor = data.get("cursor")
            if not cursor or str(cursor).startswith("0000"):
                return results
            query["cursor"] = cursor


def with_revision_retry(connection, read, write, applied=None, change=None):
    """Run ``write(current)`` and on a revision conflict (409/412) re-read and try again, a bounded number of times.

    ``read()`` returns the object as it is now; ``write(current)`` rebuilds the request from it
    (so the change is re-applied on top of what another writer did: the declared state wins) and
    sends it. ``applied(current)`` says whether the object already is what the write asks for:
    then the conflict was the replay of our own write whose answer was lost (a retried request),
    and nothing more is sent. Otherwise another writer changed the object under us: ``change``
    (when given) is marked ``conflict`` so that the result says so.
    """
    current = None
    for attempt in range(REVISION_RETRIES + 1):
        try:
            return write(current)
        except ApiError as exc:
            if exc.status not in REVISION_CONFLICTS or attempt == REVISION_RETRIES:
                raise
            current = read()
            if current is None:
                raise
            if applied is not None and applied(current):
                return current
            if change is not None:
                change.conflict = True
    return None


OWNER_SCOPE = "managed-scope"


class NsxtTags(TagScheme):
    """NSX tags are ``{scope, tag}`` mappings; the owner tag keeps the scope pre-release builds gave ``purge_scope``."""

    key = "tags"
    managed = MANAGED_TAG

    def owner_tag(self, owner):
        return {"scope": OWNER_SCOPE, "tag": owner}

    def owner_of(self, tag):
        if isinstance(tag, dict) and tag.get("scope") == OWNER_SCOPE:
            return tag.get("tag")
        return None

    def same(self, tag, other):
        return isinstance(tag, dict) and (tag.get("scope") or "", tag.get("tag") or "") == (other.get("scope") or "", other.get("tag") or "")


def canon_tags(value):
    return tuple(sorted(json.dumps({"scope": t.get("scope") or "", "tag": t.get("tag") or ""}, sort_keys=True) for t in value or []))


def convert_tags(values, path):
    """NSX tags from ``scope|tag`` strings or ``{scope, tag}`` dicts (at most 30, scope <= 128, tag <= 256)."""
    tags = []
    for index, value in enumerate(values):
        item = "%s[%d]" % (path, index)
        if isinstance(value, dict):
            scope, tag = value.get("scope") or "", value.get("tag") or ""
        elif isinstance(value, str):
            scope, dummy, tag = value.rpartition("|") if "|" in value else ("", "", value)
        else:
            raise ValidationError(item, "a tag is 'scope|tag' or a mapping with scope and tag")
        if len(scope) > 128 or len(tag) > 256:
            raise ValidationError(item, "scope is at most 128 and tag at most 256 characters")
        tags.append({"scope": scope, "tag": tag})
    if len(tags) > 30:
        raise ValidationError(path, "NSX takes at most 30 tags per object, got %d" % len(tags))
    return tags


def build_tags(params, prefix, option="tags"):
    """``convert_tags`` of one option of ``params`` (None when it is not set)."""
    values = params.get(option)
    return None if values is None else convert_tags(values, prefix + option)


def parse_service(value, option):
    """A protocol-port string (``tcp/443``, ``udp/53``, ``tcp/1:1024``, ``icmp/8/0``, ``any``) as a neutral dict.

    Returns None for ``any``; otherwise ``{"l4_protocol": "TCP", "ports": ["443"]}`` or
    ``{"icmp": "ICMPv4", "type": 8, "code": 0}``.
    """
    canonical = validate_protocol_port(value, option)
    if canonical == "any":
        return None
    proto, dummy, rest = canonical.partition("/")
    if proto in ("tcp", "udp"):
        return {"l4_protocol": proto.upper(), "ports": [rest.replace(":", "-")]}
    if proto in ("icmp", "icmp6", "ipv6-icmp"):
        family = "ICMPv4" if proto == "icmp" else "ICMPv6"
        parts = rest.split("/") if rest else []
        service = {"icmp": family}
        if parts:
            service["type"] = int(parts[0])
        if len(parts) > 1:
            if not parts[1].isdigit():
                raise ValidationError(option, "'%s': NSX takes one ICMP code per service, not a list or range" % value)
            service["code"] = int(parts[1])
        return service
    raise ValidationError(option, "'%s': only any, tcp, udp, icmp and icmp6 services can be written here" % value)


def parse_services(values, option):
    """A list of services; ``any`` (or an empty list) means every service and must stand alone."""
    services = []
    for index, value in enumerate(values or []):
        service = parse_service(value, "%s[%d]" % (option, index))
        if service is None:
            if len(values) > 1:
                raise ValidationError(option, "'any' must be the only service")
            return []
        services.append(service)
    if len(services) > 128:
        raise ValidationError(option, "at most 128 services per rule")
    return services


def format_service(service):
    """The neutral dict back as a protocol-port string, for comparisons and diffs."""
    if "l4_protocol" in service:
        ports = ",".join(p.replace("-", ":") for p in service.get("ports") or [])
        return "%s/%s" % (service["l4_protocol"].lower(), ports) if ports else service["l4_protocol"].lower()
    text = "icmp" if service.get("icmp") == "ICMPv4" else "icmp6"
    if service.get("type") is not None:
        text += "/%s" % service["type"]
        if service.get("code") is not None:
            text += "/%s" % service["code"]
    return text
