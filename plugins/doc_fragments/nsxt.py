# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Connection options of every VMware NSX-T module.
    DOCUMENTATION = r"""
options:
  host:
    description:
      - The NSX Manager, as C(name) or C(name:port) (HTTPS).
      - If not set, E(NSXT_HOST) is used.
    type: str
  username:
    description:
      - User for HTTP basic authentication or a session (C(admin), or C(user@domain) for a remote user).
      - If not set, E(NSXT_USERNAME) is used.
    type: str
  password:
    description:
      - Password of O(username). If not set, E(NSXT_PASSWORD) is used.
    type: str
  client_cert:
    description:
      - A PEM client certificate (principal identity) to authenticate with instead of a password.
      - If not set, E(NSXT_CLIENT_CERT) is used.
    type: path
  client_key:
    description:
      - The private key of O(client_cert), when it is not in the same file. If not set, E(NSXT_CLIENT_KEY) is used.
    type: path
  session:
    description:
      - Log in once (C(POST /api/session/create)) and send the session cookie and XSRF token on every
        request instead of basic authentication; the session is closed at the end of the task.
      - If not set, E(NSXT_SESSION) is used.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the manager's TLS certificate. If not set, E(NSXT_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the CA certificates to trust for the manager. If not set, E(NSXT_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each API response. Connection errors and HTTP 429, 502, 503 and 504 are
        retried with exponential backoff, honouring C(Retry-After); a write that meets a revision
        conflict (409 or 412) is re-read, re-applied and retried up to three times.
      - If not set, E(NSXT_TIMEOUT) is used.
    type: int
    default: 60
  retries:
    description:
      - How many times a request that failed on the way is retried (a dropped or refused connection,
        HTTP 429, 502, 503 or 504) before the task fails, with exponential backoff.
      - An endpoint that has not answered once during the task (a wrong address or port, a console that
        is down, a host name that does not resolve) is retried at most twice, half a second apart, so
        the task fails within a few seconds with a message naming the URL. A TCP connection attempt
        waits at most 5 seconds (or O(timeout) if lower).
      - If not set, E(NSXT_RETRIES) is used.
    type: int
    default: 5
requirements:
  - requests
  - netaddr
notes:
  - "Check mode across tasks: in check mode only, a section or security policy that names a group that does not exist
    yet (an earlier task of the play would create it) is reported as it would be written, with a warning instead of the
    failure; a Policy API domain that does not exist is read as empty; C(nsxt_flow_check) naming a group that does not
    exist is skipped with a warning. A real run fails as before."
"""

    # State, list form and the shared object options of the NSX object modules.
    OBJECT = r"""
options:
  state:
    description:
      - V(present) creates the object or updates what the task sets; V(absent) deletes it.
      - In the list form it is the default state of every item.
    type: str
    choices: [present, absent]
    default: present
  items:
    description:
      - The list form. Each item takes the object options of this module (V(name) required, and an
        optional per-item V(state)) and is validated exactly like a single-object task, all before any request.
      - An object option given next to O(items) is the default of every item that does not set it; the options that
        identify an object (its name, and the Policy API modules' C(id)) cannot be given there.
      - The Policy API modules look in their C(domain); the Manager API modules' objects are global to the manager.
    type: list
    elements: dict
  parallel:
    description:
      - With O(items) or O(src), how many writes are sent at once (1 to 32), where the API has no single bulk write.
      - Whatever the value, requests start at most 100 a second (the default per-client rate limit of NSX Manager, which
        answers 429 above it), and firewall sections are written one at a time (the API asks for its calls that write
        a section with its rules to be rare).
    type: int
    default: 8
  description:
    description: Free text, at most 1024 characters.
    type: str
  tags:
    description:
      - NSX tags of the object, each written C(scope|tag) (or just C(tag) for an empty scope), or as a
        mapping with C(scope) and C(tag); at most 30. Compared without regard to order.
      - The collection adds C(managed-by|microseg.segmentation) and C(managed-scope|<owner>) to the objects it creates
        and to those a list form adopts (O(adopt=true)).
    type: list
    elements: raw
notes:
  - A no-change run reads and does not write; check mode sends no write and predicts the result.
  - The Policy API modules write each object at its declared id, so two runs at once make one object. The Manager API
    has no such key; a create whose answer was lost is looked up by name before it is sent again, and after its creates
    a task reads the objects again, so that a copy another run created at the same moment is found in the same run.
  - Should a name exist more than once (two runs at once, or a run cut short), the task keeps the oldest, deletes the
    other copies the collection manages, writes its declaration onto the one kept and lists them in
    RV(duplicates_removed). A copy the collection does not manage fails the task instead.
"""

    POLICY = r"""
options:
  domain:
    description: The Policy API domain of the object.
    type: str
    default: default
  id:
    description:
      - The object's id in the Policy API (the last part of its path). Defaults to O(name); an empty id fails (leave it out instead).
    type: str
"""

    # The action group of the product's modules (check and diff support: microseg.segmentation.attributes).
    ATTRIBUTES = r"""
attributes:
  action_group:
    description: Use C(group/microseg.segmentation.nsxt) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - microseg.segmentation.nsxt
"""
