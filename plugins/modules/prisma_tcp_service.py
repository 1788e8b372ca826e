#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_tcp_service
short_description: Manage Prisma Cloud Microsegmentation TCP services
version_added: 1.0.0
description:
  - Create, update and delete TCP services (API identity C(service) with C(type=TCP)), in front of a Kubernetes
    service, a TCP-terminating load balancer, or a server that external clients reach through a load
    balancer.
  - The processing units that implement the service are chosen by O(selectors); clients reach it on
    O(hosts) or O(ips) at O(exposed_port), and the enforcer forwards to O(port).
  - With O(items), many TCP services of one namespace are reconciled in one task.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.prisma
  - microseg.segmentation.prisma.object
  - microseg.segmentation.attributes
  - microseg.segmentation.prisma.attributes
  - microseg.segmentation.prisma.common
  - microseg.segmentation.prisma.propagate
  - microseg.segmentation.prisma.disabled
options:
  name:
    description: Name of the service. Required unless O(items) is used.
    type: str
  tags:
    description:
      - Tags (C(key=value)) of the service. Service dependency policies select services by these tags.
        The collection adds C(managed-by=microseg.segmentation) to the services it creates.
    type: list
    elements: str
  hosts:
    description:
      - Host names the service is reached on (such as the load balancer's DNS name). At least one of
        O(hosts) and O(ips) is needed to create a service.
    type: list
    elements: str
  ips:
    description: IP addresses (not CIDRs) the service is reached on, such as a ClusterIP.
    type: list
    elements: str
  exposed_port:
    description: The port clients connect to (service port, load-balancer port). Required to create a service.
    type: int
  port:
    description:
      - The port the processing units listen on (the pod's target port). Required to create a service
        unless O(external=true).
    type: int
  public_port:
    description:
      - The enforcer's public port for clients outside the enforced network (such as a node port behind
        a load balancer). Must differ from O(exposed_port).
    type: int
  selectors:
    description:
      - Tag expression of the processing units that implement the service, for example
        V([["$identity=processingunit", "app=web"]]).
    type: raw
  tls_mode:
    description:
      - How the enforcer gets the server certificate it presents.
      - V(public_ca) - a certificate signed by the Microsegmentation public signing CA (API C(Aporeto), the API default).
      - V(custom) - the certificate in O(tls_certificate) and O(tls_certificate_key) (API C(External)).
      - V(letsencrypt) - a Let's Encrypt certificate (API C(LetsEncrypt)).
      - V(none) - no TLS (API C(None)).
    type: str
    choices: [public_ca, custom, letsencrypt, none]
  tls_certificate:
    description: PEM certificate presented to clients. Required when O(tls_mode=custom).
    type: str
  tls_certificate_key:
    description: PEM private key of O(tls_certificate). Never logged, masked in the output and the diff.
    type: str
  tls_only:
    description:
      - The service itself expects TLS, so the enforcer opens a TLS session towards it even when the
        client sends plain TCP (API C(exposedServiceIsTLS)).
    type: bool
    aliases: [exposed_service_is_tls]
  proxy_protocol:
    description: Trust the proxy-protocol header sent by the load balancers in O(proxy_protocol_subnets).
    type: bool
  proxy_protocol_subnets:
    description: CIDRs of the load balancers allowed to send the proxy-protocol header. Required when O(proxy_protocol=true).
    type: list
    elements: str
  proxy_protocol_preserve_header:
    description: Do not strip the proxy-protocol header before passing the connection to the service.
    type: bool
  external:
    description: The service is a third-party service (no processing unit implements it; O(port) and O(public_port) must not be set).
    type: bool
  trusted_cas:
    description: PEM CA certificates to trust when the connection needs further TLS hops.
    type: str
seealso:
  - module: microseg.segmentation.prisma_service_dependency_policy
"""

EXAMPLES = r"""
- name: A Kubernetes ClusterIP service, service port 9376 to pod port 80, TLS only
  microseg.segmentation.prisma_tcp_service:
    namespace: /acme/k8s/default
    name: my-service
    ips: [10.96.12.34]
    hosts: [my-service.default.svc.cluster.local]
    exposed_port: 9376
    port: 80
    tls_only: true
    selectors: [["$identity=processingunit", "app=my-app"]]
    tags: [service=my-service]

- name: Behind a load balancer with a custom certificate and proxy protocol
  microseg.segmentation.prisma_tcp_service:
    namespace: /acme/k8s/web
    name: web-lb
    hosts: [web.example.com]
    exposed_port: 443
    public_port: 8003
    port: 443
    tls_mode: custom
    tls_certificate: "{{ lookup('file', 'web.crt') }}"
    tls_certificate_key: "{{ lookup('file', 'web.key') }}"
    proxy_protocol: true
    proxy_protocol_subnets: [10.0.0.0/16]
    selectors: [["app=web"]]
"""

RETURN = r"""
id:
  description: The API identifier of the service.
  returned: single object
  type: str
  sample: 5d2398157ddf1f3519ce6d96
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The service as the API returned it (predicted in check mode), with the certificate key masked.
  returned: single object
  type: dict
summary:
  description: Names of the services created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per service with its name, action and identifier.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import (
    ValidationError,
    validate_cidrs,
    validate_hostname,
    validate_ip_address,
    validate_port,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.fields import build_common, common_fields, common_spec, expression, set_if

FLAGS = ("propagate", "disabled", "protected")
TLS_MODES = {"public_ca": "Aporeto", "custom": "External", "letsencrypt": "LetsEncrypt", "none": "None"}

KIND = Kind(
    "service",
    "TCP service",
    common_fields(*FLAGS) + [
        Field("type", "type", empty="HTTP"),
        Field("hosts", "hosts", compare="set", empty=[]),
        Field("ips", "IPs", compare="set", empty=[]),
        Field("exposed_port", "exposedPort", empty=0),
        Field("port", "port", empty=0),
        Field("public_port", "publicApplicationPort", empty=0),
        Field("selectors", "selectors", compare="expression", empty=[]),
        Field("tls_mode", "TLSType", empty="Aporeto"),
        Field("tls_certificate", "TLSCertificate", empty=""),
        Field("tls_certificate_key", "TLSCertificateKey", secret=True, empty=""),
        Field("tls_only", "exposedServiceIsTLS", empty=False),
        Field("proxy_protocol", "proxyProtocolEnabled", empty=False),
        Field("proxy_protocol_subnets", "proxyProtocolSubnets", compare="set", empty=[]),
        Field("proxy_protocol_preserve_header", "proxyProtocolPreserveHeader", empty=False),
        Field("external", "external", empty=False),
        Field("trusted_cas", "trustedCertificateAuthorities", empty=""),
    ],
    create_requires=[("exposedPort", "exposed_port"), ("port", "port"), (("hosts", "IPs"), "hosts or ips")],
)

OBJECT_SPEC = common_spec(*FLAGS)
OBJECT_SPEC.update(
    hosts=dict(type="list", elements="str"),
    ips=dict(type="list", elements="str"),
    exposed_port=dict(type="int"),
    port=dict(type="int"),
    public_port=dict(type="int"),
    selectors=dict(type="raw"),
    tls_mode=dict(type="str", choices=list(TLS_MODES)),
    tls_certificate=dict(type="str"),
    tls_certificate_key=dict(type="str", no_log=True),
    tls_only=dict(type="bool", aliases=["exposed_service_is_tls"]),
    proxy_protocol=dict(type="bool"),
    proxy_protocol_subnets=dict(type="list", elements="str"),
    proxy_protocol_preserve_header=dict(type="bool"),
    external=dict(type="bool"),
    trusted_cas=dict(type="str"),
)


def _pem(params, prefix, option, marker):
    value = params.get(option)
    if value is not None and "-----BEGIN %s" % marker not in value:
        raise ValidationError(prefix + option, "must be PEM text containing a '-----BEGIN %s' block" % marker)
    return value


def build(params, prefix):
    desired = build_common(params, prefix, FLAGS)
    desired["type"] = "TCP"
    if params.get("hosts") is not None:
        desired["hosts"] = [validate_hostname(h, "%shosts[%d]" % (prefix, i)) for i, h in enumerate(params["hosts"])]
    if params.get("ips") is not None:
        ips = [validate_ip_address(ip, "%sips[%d]" % (prefix, i)) for i, ip in enumerate(params["ips"])]
        if len(set(ips)) != len(ips):
            raise ValidationError(prefix + "ips", "lists the same address twice")
        desired["IPs"] = ips
    for option, api in (("exposed_port", "exposedPort"), ("port", "port"), ("public_port", "publicApplicationPort")):
        if params.get(option) is not None:
            desired[api] = validate_port(params[option], prefix + option)
    if params.get("public_port") is not None and params.get("public_port") == params.get("exposed_port"):
        raise ValidationError(prefix + "public_port", "must differ from exposed_port (%s)" % params["exposed_port"])
    if params.get("external"):
        for option in ("port", "public_port"):
            if params.get(option):
                raise ValidationError(prefix + option, "must not be set for an external service (external=true)")
        desired["port"] = 0
        desired["publicApplicationPort"] = 0
    set_if(desired, params, "external", "external")
    selectors = expression(params, prefix, "selectors")
    if selectors is not None:
        desired["selectors"] = selectors
    set_if(desired, params, "tls_mode", "TLSType", TLS_MODES.get)
    if params.get("tls_mode") == "custom" and not params.get("tls_certificate"):
        raise ValidationError(prefix + "tls_certificate", "is required when tls_mode is 'custom'")
    set_if(desired, params, "tls_certificate", "TLSCertificate", lambda v: _pem(params, prefix, "tls_certificate", "CERTIFICATE"))
    set_if(desired, params, "tls_certificate_key", "TLSCertificateKey", lambda v: _pem(params, prefix, "tls_certificate_key", ""))
    set_if(desired, params, "trusted_cas", "trustedCertificateAuthorities", lambda v: _pem(params, prefix, "trusted_cas", "CERTIFICATE"))
    set_if(desired, params, "tls_only", "exposedServiceIsTLS")
    set_if(desired, params, "proxy_protocol", "proxyProtocolEnabled")
    set_if(desired, params, "proxy_protocol_preserve_header", "proxyProtocolPreserveHeader")
    if params.get("proxy_protocol") and not params.get("proxy_protocol_subnets"):
        raise ValidationError(prefix + "proxy_protocol_subnets", "is required when proxy_protocol is true: list the load balancers' subnets")
    if params.get("proxy_protocol_subnets") is not None:
        desired["proxyProtocolSubnets"] = validate_cidrs(params["proxy_protocol_subnets"], prefix + "proxy_protocol_subnets")
    return desired


def main():
    PrismaObjectModule(KIND, "/services", OBJECT_SPEC, build).run()


if __name__ == "__main__":
    main()
