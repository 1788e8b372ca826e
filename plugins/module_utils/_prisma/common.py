# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prisma Cloud Microsegmentation: connection options, login, the object adapter and the
module runner that every Prisma object module calls."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import tempfile
import uuid

from ansible.module_utils.basic import env_fallback

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Adapter
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, Connection, HttpClient
from ansible_collections.microseg.segmentation.plugins.module_utils._core.module import ObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import TagScheme
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError

MANAGED_TAG = "managed-by=microseg.segmentation"
OWNER_TAG_PREFIX = "managed-owner="
# The API documents no largest page: ``pagesize`` 0 (or none) returns every object at once. Pages
# of 1,000 keep one answer to a few megabytes (a ruleset with its rules is about 1 KB) while a
# namespace of 2,000 objects still takes two requests.
PAGE_SIZE = 1000


def prisma_argument_spec():
    """The connection options of every Prisma module (documented in the ``prisma`` fragment)."""
    return dict(
        api_url=dict(type="str", fallback=(env_fallback, ["PRISMA_API", "APOCTL_API"])),
        namespace=dict(type="str", fallback=(env_fallback, ["PRISMA_NAMESPACE", "APOCTL_NAMESPACE"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["PRISMA_TOKEN", "APOCTL_TOKEN"])),
        app_credential=dict(type="path", fallback=(env_fallback, ["PRISMA_APP_CREDENTIAL", "APOCTL_CREDS"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["PRISMA_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["PRISMA_CA_PATH"])),
        timeout=dict(type="int", default=30, fallback=(env_fallback, ["PRISMA_TIMEOUT"])),
        retries=dict(type="int", default=5, fallback=(env_fallback, ["PRISMA_RETRIES"])),
    )


CONNECTION_OPTIONS = tuple(prisma_argument_spec())


def parse_prisma_errors(data):
    """Turn the API's error array into one readable sentence."""
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return None
    parts = []
    for err in data:
        if not isinstance(err, dict):
            continue
        text = "%s: %s" % (err.get("title", "Error"), err.get("description", ""))
        attribute = (err.get("data") or {}).get("attribute") if isinstance(err.get("data"), dict) else None
        if attribute:
            text += " (attribute %s)" % attribute
        parts.append(text)
    return "; ".join(parts) or None


def _load_app_credential(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        raise ApiError("app_credential: cannot read '%s': %s" % (path, exc)) from exc
    missing = [k for k in ("certificate", "certificateKey") if not data.get(k)]
    if missing:
        raise ApiError("app_credential: '%s' lacks %s" % (path, ", ".join(missing)))
    return data


class PrismaConnection(Connection):
    """An authenticated client for one module run: every request carries the namespace
    (``X-Namespace``, the task's unless ``namespace`` is given) and every write an
    ``Idempotency-Key``, so that all of them can be retried."""

    def __init__(self, params):
        self.params = params
        credential = None
        if params.get("app_credential"):
            credential = _load_app_credential(params["app_credential"])
        api_url = params.get("api_url") or (credential or {}).get("APIURL")
        if not api_url:
            raise ApiError("api_url is required (or set PRISMA_API, or give an app_credential that names its APIURL)")
        self.namespace = params.get("namespace") or (credential or {}).get("namespace")
        if not self.namespace:
            raise ApiError("namespace is required (or set PRISMA_NAMESPACE)")
        if not self.namespace.startswith("/"):
            raise ApiError("namespace: '%s' must be an absolute namespace path starting with '/'" % self.namespace)
        if not params.get("token") and credential is None:
            raise ApiError("one of token or app_credential is required (or set PRISMA_TOKEN or PRISMA_APP_CREDENTIAL)")
        self._files = []
        try:
            ca_path = params.get("ca_path")
            if credential is not None and not ca_path and credential.get("certificateAuthority"):
                # requests reads the CA for every new connection: it stays until close()
                ca_path = self._memory_file("ca.pem", base64.b64decode(credential["certificateAuthority"]))
            self.client = HttpClient(
                api_url,
                validate_certs=params.get("validate_certs", True),
                ca_path=ca_path,
                timeout=params.get("timeout") or 30,
                retries=params.get("retries"),
                error_parser=parse_prisma_errors,
                secrets=[params.get("token")],
            )
            if params.get("token"):
                self.client.set_header("Authorization", "Bearer " + params["token"])
            else:
                self._login(credential)
        except BaseException:
            self._release()
            raise

    def _memory_file(self, name, content):
        """A path to ``content`` that no other process can see and nothing on disk keeps: an
        anonymous in-memory file (``memfd_create``) read through ``/proc/self/fd``. It disappears
        with its descriptor, so a killed process leaves nothing behind. Where there is none (not
        Linux), a private temporary file that :meth:`_release` removes; returns its path."""
        if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
            fd = os.memfd_create("microseg-" + name, getattr(os, "MFD_CLOEXEC", 0))
            self._files.append((fd, None))
            os.write(fd, content)
            return "/proc/self/fd/%d" % fd
        fd, path = tempfile.mkstemp(prefix="microseg-", suffix="-" + name)
        self._files.append((fd, path))
        os.write(fd, content)
        return path

    def _release(self, keep=0):
        """Close (and, for a temporary file, remove) every file after the first ``keep``."""
        while len(self._files) > keep:
            fd, path = self._files.pop()
            try:
                os.close(fd)
            except OSError:
                pass
            if path is not None:
                try:
                    os.remove(path)
                except OSError:
                    pass

    def _login(self, credential):
        # The certificate authenticates this request only; the issued token every later one. The
        # key lives in memory files released as soon as /issue has answered (or failed).
        kept = len(self._files)
        try:
            cert = self._memory_file("cert.pem", base64.b64decode(credential["certificate"]))
            key = self._memory_file("key.pem", base64.b64decode(credential["certificateKey"]))
            # a replayed /issue only issues another token: it is retried like a read
            data = self.client.request("POST", "/issue", body={"realm": "Certificate", "validity": "1h"}, retry_write=True, cert=(cert, key)).data
        finally:
            self._release(kept)
        token = data.get("token") if isinstance(data, dict) else None
        if not token:
            raise ApiError("POST /issue returned no token")
        self.client.add_secret(token)
        self.client.set_header("Authorization", "Bearer " + token)

    def close(self):
        try:
            if self.client is not None:
                super(PrismaConnection, self).close()
        finally:
            self._release()

    def send(self, method, path, namespace=None, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers["X-Namespace"] = namespace or self.namespace
        if method in ("POST", "PUT"):
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
            kwargs["retry_write"] = True
        elif method == "DELETE":
            kwargs["retry_write"] = True
        return self.client.request(method, path, headers=headers, **kwargs)

    def list_all(self, resource, namespace=None, params=None):
        """Every object of a resource in a namespace, page by page."""
        objects = []
        page = 1
        while True:
            query = dict(params or {})
            query.update(page=page, pagesize=PAGE_SIZE)
            response = self.send("GET", resource, namespace=namespace, params=query)
            batch = response.data or []
            objects.extend(batch)
            total = response.headers.get("X-Count-Total")
            if len(batch) < PAGE_SIZE or (total is not None and total.isdigit() and len(objects) >= int(total)):
                return objects
            page += 1


def creation_key(namespace, resource, body):
    """The ``Idempotency-Key`` of a create: the same for the same object created in the same place."""
    digest = hashlib.sha256(json.dumps([namespace, resource, body], sort_keys=True, default=str).encode("utf-8")).hexdigest()
    return str(uuid.UUID(digest[:32]))


def quote_filter_value(value, option="name"):
    if '"' not in value:
        return '"%s"' % value
    if "'" not in value:
        return "'%s'" % value
    raise ValidationError(option, "'%s' contains both kinds of quotes and cannot be looked up" % value)


class PrismaTags(TagScheme):
    """Prisma tags are ``key=value`` strings in ``associatedTags``."""

    key = "associatedTags"
    managed = MANAGED_TAG

    def owner_tag(self, owner):
        return OWNER_TAG_PREFIX + owner

    def owner_of(self, tag):
        if isinstance(tag, str) and tag.startswith(OWNER_TAG_PREFIX):
            return tag[len(OWNER_TAG_PREFIX):]
        return None


class PrismaAdapter(Adapter):
    """Find, list and write objects of one Prisma resource in the task's namespace."""

    def __init__(self, connection, kind, task, resource=None):
        super(PrismaAdapter, self).__init__(connection, kind, task, resource)
        self.namespace = connection.namespace

    def api_name(self, name):
        return name

    created_attribute = "createTime"
    # identical creates collapse on the server (the Idempotency-Key of ``create``)
    reread_after_create = False

    def find_all(self, name):
        query = {"q": "name == %s" % quote_filter_value(self.api_name(name))}
        data = self.connection.request("GET", self.resource, namespace=self.namespace, params=query)
        return [o for o in (data or []) if o.get("namespace") == self.namespace]

    def list(self):
        return [o for o in self.connection.list_all(self.resource, namespace=self.namespace) if o.get("namespace") == self.namespace]

    def object_id(self, obj):
        return (obj or {}).get("ID")

    def create_body(self, name, body):
        body = dict(body)  # only the name is set: the values are shared, never changed
        body["name"] = name
        return body

    def predict_create(self, change):
        predicted = self.create_body(change.name, change.body)
        predicted["namespace"] = self.namespace
        return predicted

    def create(self, change):
        """POST the object with an ``Idempotency-Key`` derived from what is created (namespace,
        resource, body): a retry after a lost answer, even across an API restart, and an identical
        create by another run at the same time return the one object the key created (the product
        keeps the key with the object). Should the key return an object of another name (renamed
        since), the create is sent again under a key of its own."""
        body = self.create_body(change.name, change.body)
        key = creation_key(self.namespace, self.resource, body)
        data = self.connection.request("POST", self.resource, namespace=self.namespace, body=body, headers={"Idempotency-Key": key})
        if isinstance(data, dict) and data.get("name") not in (None, body.get("name"), self.api_name(body.get("name"))):
            data = self.connection.request("POST", self.resource, namespace=self.namespace, body=body)
        return data

    def update(self, change):
        path = "%s/%s" % (self.resource, change.existing["ID"])
        return self.connection.request("PUT", path, namespace=self.namespace, body=change.body)

    def delete(self, change):
        path = "%s/%s" % (self.resource, change.existing["ID"])
        try:
            self.connection.request("DELETE", path, namespace=self.namespace)
        except ApiError as exc:
            # A retried DELETE whose first attempt went through finds nothing left to delete.
            if exc.status != 404:
                raise


class PrismaObjectModule(ObjectModule):
    """A Prisma object module: Prisma connection options, one resource in one namespace."""

    tag_scheme = PrismaTags()
    # `make bench` (create 2,000 rulesets at 50 ms a request): 8 writes at once 23 s, 16 at once
    # 16 s, 32 at once 14 s; the API documents no limit and answers 429 (retried) when it has one
    default_parallel = 16

    def __init__(self, kind, resource, adapter_class=PrismaAdapter):
        super(PrismaObjectModule, self).__init__(kind, resource, adapter_class)

    def connection_spec(self):
        return prisma_argument_spec()

    def connect(self, params):
        return PrismaConnection(params)
