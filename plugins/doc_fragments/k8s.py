# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Connection options of every Kubernetes module (the environment variables are kubernetes.core's).
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of a kubeconfig file.
      - If not set, E(K8S_AUTH_KUBECONFIG) is used. Without either, and unless O(host) is set alone, the
        kubeconfig of E(KUBECONFIG) or C(~/.kube/config) is used, and with none of these the service
        account of the pod the module runs in.
    type: path
  context:
    description:
      - The kubeconfig context to use instead of its current context.
      - If not set, E(K8S_AUTH_CONTEXT) is used.
    type: str
  host:
    description:
      - URL of the API server, such as V(https://k8s.example.com:6443). With a kubeconfig, it replaces the
        server of the context; without one, give O(api_key) and O(ca_cert) too.
      - If not set, E(K8S_AUTH_HOST) is used.
    type: str
  api_key:
    description:
      - A bearer token (such as a service account token) to authenticate with. It replaces the credentials
        of the kubeconfig, and is never logged.
      - If not set, E(K8S_AUTH_API_KEY) is used.
    type: str
  ca_cert:
    description:
      - A PEM file of the CA certificates that signed the API server's certificate.
      - If not set, E(K8S_AUTH_SSL_CA_CERT) is used, then the CA of the kubeconfig.
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Verify the API server's TLS certificate. When not set (nor E(K8S_AUTH_VERIFY_SSL)), it is
        verified unless the kubeconfig's cluster sets C(insecure-skip-tls-verify).
    type: bool
    aliases: [verify_ssl]
  timeout:
    description:
      - Seconds to wait for each answer of the API server. Connection errors and HTTP 429, 502, 503 and
        504 are retried three times with exponential backoff, honouring C(Retry-After).
      - If not set, E(K8S_AUTH_TIMEOUT) is used.
    type: int
    default: 60
requirements:
  - kubernetes >= 24.2 (the Python client)
"""

    # The action group of the Kubernetes modules (check and diff support: microseg.segmentation.attributes).
    ATTRIBUTES = r"""
attributes:
  action_group:
    description: Use C(group/microseg.segmentation.k8s) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - microseg.segmentation.k8s
"""
