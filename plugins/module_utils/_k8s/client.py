# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes: the connection options and a read-only API client on the ``kubernetes`` library.

The options and their environment variables are those of kubernetes.core (``K8S_AUTH_KUBECONFIG``,
``K8S_AUTH_CONTEXT``, ``K8S_AUTH_HOST``, ``K8S_AUTH_API_KEY``, ``K8S_AUTH_SSL_CA_CERT``,
``K8S_AUTH_VERIFY_SSL``), so one environment serves both collections. Objects are read as the API
server sends them (raw JSON, camelCase keys), not as the library's model classes: that is the
shape ``kubectl get -o json`` and kubernetes.core.k8s_info give, and the shape the filters of this
collection take.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import traceback

from ansible.module_utils.basic import env_fallback

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError

try:
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

DEFAULT_KUBECONFIG = "~/.kube/config"
PAGE_SIZE = 500
RETRY_STATUSES = (429, 502, 503, 504)
IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


class K8sError(Exception):
    """The connection settings are wrong or the API server cannot be reached."""


def k8s_argument_spec():
    """The connection options of the Kubernetes modules (documented in the ``k8s`` fragment)."""
    return dict(
        kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"])),
        context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
        host=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_HOST"])),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["K8S_AUTH_API_KEY"])),
        ca_cert=dict(type="path", aliases=["ssl_ca_cert"], fallback=(env_fallback, ["K8S_AUTH_SSL_CA_CERT"])),
        validate_certs=dict(type="bool", aliases=["verify_ssl"], fallback=(env_fallback, ["K8S_AUTH_VERIFY_SSL"])),
        timeout=dict(type="int", default=60, fallback=(env_fallback, ["K8S_AUTH_TIMEOUT"])),
    )


def kubeconfig_source(params, environ=None, exists=os.path.exists):
    """Where the settings come from: ``("kubeconfig", path)``, ``("host", None)`` or ``("in-cluster", None)``.

    A kubeconfig is used when O(kubeconfig) or O(context) is set, or when O(host) is not set and
    E(KUBECONFIG) or ``~/.kube/config`` gives one; O(host) alone needs no kubeconfig; with none
    of these, a process inside a pod uses its service account. Raises :class:`K8sError` when there
    is nothing to connect with.
    """
    environ = os.environ if environ is None else environ
    if params.get("kubeconfig"):
        if not exists(params["kubeconfig"]):
            raise K8sError("kubeconfig: file %s does not exist" % params["kubeconfig"])
        return "kubeconfig", params["kubeconfig"]
    if params.get("host") and not params.get("context"):
        return "host", None
    if environ.get("KUBECONFIG"):
        paths = [path for path in environ["KUBECONFIG"].split(os.pathsep) if path]
        if not any(exists(os.path.expanduser(path)) for path in paths):
            raise K8sError("the environment variable KUBECONFIG names no existing file: %s" % environ["KUBECONFIG"])
        return "kubeconfig", environ["KUBECONFIG"]
    default = os.path.expanduser(DEFAULT_KUBECONFIG)
    if exists(default):
        return "kubeconfig", default
    if params.get("context"):
        raise K8sError("context: no kubeconfig to take context %r from (set kubeconfig, K8S_AUTH_KUBECONFIG or KUBECONFIG)" % params["context"])
    if environ.get("KUBERNETES_SERVICE_HOST") and exists(IN_CLUSTER_TOKEN):
        return "in-cluster", None
    raise K8sError(
        "no Kubernetes API to talk to: set kubeconfig (or K8S_AUTH_KUBECONFIG or KUBECONFIG), or host (or K8S_AUTH_HOST) "
        "with api_key, or run inside a pod with a service account"
    )


def build_configuration(params):
    """A ``kubernetes.client.Configuration`` from the module's connection options."""
    configuration = k8s_client.Configuration()
    source, path = kubeconfig_source(params)
    try:
        if source == "kubeconfig":
            k8s_config.load_kube_config(config_file=path, context=params.get("context"), client_configuration=configuration, persist_config=False)
        elif source == "in-cluster":
            k8s_config.load_incluster_config(client_configuration=configuration)
    except ConfigException as exc:
        where = "kubeconfig %s" % path if source == "kubeconfig" else "in-cluster configuration"
        raise K8sError("%s: %s" % (where, exc)) from exc
    except (IOError, OSError, ValueError) as exc:
        raise K8sError("kubeconfig %s cannot be read: %s" % (path, exc)) from exc
    if params.get("host"):
        configuration.host = params["host"].rstrip("/")
    if params.get("api_key"):
        configuration.api_key = {"authorization": "Bearer %s" % params["api_key"]}
        configuration.api_key_prefix = {}
        configuration.refresh_api_key_hook = None
    if params.get("ca_cert"):
        if not os.path.exists(params["ca_cert"]):
            raise K8sError("ca_cert: file %s does not exist" % params["ca_cert"])
        configuration.ssl_ca_cert = params["ca_cert"]
    if params.get("validate_certs") is not None:
        configuration.verify_ssl = params["validate_certs"]
    if not configuration.host or "://" not in configuration.host:
        raise K8sError("host: the API server URL must start with https:// (or http://), got %r" % (configuration.host,))
    if params.get("timeout") is not None and params["timeout"] <= 0:
        raise K8sError("timeout: give a number of seconds greater than 0, not %s" % params["timeout"])
    # Connection errors and 429/502/503/504 are retried (only reads are sent), honouring Retry-After.
    configuration.retries = urllib3.util.Retry(
        total=3,
        backoff_factor=0.5,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=["GET"],
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    return configuration


def _status_message(body):
    """The ``message`` of a Kubernetes ``Status`` body, or the body itself."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return (body or "").strip() or None
    if isinstance(data, dict) and data.get("message"):
        return data["message"]
    return None


class K8sClient:
    """Reads of one module run against one API server."""

    def __init__(self, params):
        self.configuration = build_configuration(params)
        self.host = self.configuration.host
        self.timeout = params.get("timeout") or 60
        self.api_client = k8s_client.ApiClient(self.configuration)
        self.core = k8s_client.CoreV1Api(self.api_client)
        self.discovery = k8s_client.DiscoveryV1Api(self.api_client)

    def close(self):
        try:
            self.api_client.close()
        except Exception:  # pylint: disable=broad-except
            pass  # closing the pool must not hide the module's result

    def _call(self, method, path, **kwargs):
        """One GET through a generated API method; the JSON body as a dict. ``path`` is for messages."""
        url = self.host + path
        try:
            response = method(_preload_content=False, _request_timeout=self.timeout, **kwargs)
        except k8s_client.ApiException as exc:
            message = _status_message(exc.body) or exc.reason or "no message"
            raise ApiError(
                "GET %s failed with status %s: %s" % (url, exc.status, message),
                status=exc.status,
                method="GET",
                url=url,
            ) from exc
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            hint = ""
            if "CERTIFICATE_VERIFY_FAILED" in str(reason) or isinstance(reason, urllib3.exceptions.SSLError):
                hint = " (set ca_cert to the CA that signed the API server's certificate)"
            raise K8sError("cannot reach the Kubernetes API at %s: %s%s" % (self.host, reason, hint)) from exc
        data = response.data
        try:
            return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        except ValueError as exc:
            raise ApiError("GET %s did not return JSON" % url, status=response.status, method="GET", url=url) from exc

    def _list(self, method, path, **kwargs):
        """Every item of a list read, page by page."""
        items = []
        token = None
        while True:
            if token:
                kwargs["_continue"] = token
            page = self._call(method, path, limit=PAGE_SIZE, **kwargs)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def get_service(self, namespace, name):
        """The Service, or None when it does not exist."""
        try:
            return self._call(self.core.read_namespaced_service, "/api/v1/namespaces/%s/services/%s" % (namespace, name), name=name, namespace=namespace)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def endpoint_slices(self, namespace, service_name):
        """The EndpointSlices of a Service (``kubernetes.io/service-name`` label)."""
        items = self._list(
            self.discovery.list_namespaced_endpoint_slice,
            "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices" % namespace,
            namespace=namespace,
            label_selector="kubernetes.io/service-name=%s" % service_name,
        )
        for item in items:
            item.setdefault("apiVersion", "discovery.k8s.io/v1")
            item.setdefault("kind", "EndpointSlice")
        return sorted(items, key=lambda item: (item.get("metadata") or {}).get("name") or "")

    def endpoints(self, namespace, name):
        """The Endpoints object of a Service, or None."""
        try:
            obj = self._call(self.core.read_namespaced_endpoints, "/api/v1/namespaces/%s/endpoints/%s" % (namespace, name), name=name, namespace=namespace)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        obj.setdefault("apiVersion", "v1")
        obj.setdefault("kind", "Endpoints")
        return obj

    def nodes(self, label_selector=None):
        """Every Node (optionally only those matching a label selector), by name."""
        kwargs = {"label_selector": label_selector} if label_selector else {}
        items = self._list(self.core.list_node, "/api/v1/nodes", **kwargs)
        for item in items:
            item.setdefault("apiVersion", "v1")
            item.setdefault("kind", "Node")
        return sorted(items, key=lambda item: (item.get("metadata") or {}).get("name") or "")
