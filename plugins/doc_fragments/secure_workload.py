# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Connection options of every Cisco Secure Workload module.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - URL of the Secure Workload cluster, for example C(https://csw.example.com).
      - If not set, E(SW_URL) (or E(TETRATION_URL)) is used.
    type: str
  api_key:
    description:
      - The API key. If not set, E(SW_API_KEY) (or E(TETRATION_API_KEY)) is used.
    type: str
  api_secret:
    description:
      - The API secret; every request is signed with it (HMAC-SHA256), and it is never sent or logged.
      - If not set, E(SW_API_SECRET) (or E(TETRATION_API_SECRET)) is used.
    type: str
  validate_certs:
    description:
      - Verify the cluster's TLS certificate. If not set, E(SW_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the CA certificates to trust for the cluster. If not set, E(SW_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each API response. Reads, updates and deletes are retried on connection
        errors and HTTP 429, 502, 503 and 504 with exponential backoff; a create is sent once.
      - If not set, E(SW_TIMEOUT) is used.
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
      - If not set, E(SW_RETRIES) is used.
    type: int
    default: 5
requirements:
  - requests
notes:
  - "Check mode across tasks: in check mode only, a scope, workspace, inventory filter or agent config profile that does
    not exist yet (an earlier task of the play would create it) is assumed: a parent scope or a scope is read as empty,
    a workspace named by C(workspace) and C(scope) is one with no policy and enforcement off, and a
    consumer, provider, profile or filter it names is taken as given; the task reports what it would do, with a
    warning. C(secure_workload_flow_check) on a workspace or scope that does not exist is skipped with a warning. A
    real run fails as before."
"""

    # State and list form of the Secure Workload object modules.
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
        optional per-item V(state)) and is validated like a single-object task, all before any request.
      - An object option given next to O(items) is the default of every item that does not set it; the options
        that identify an object (such as V(name)) cannot be given there.
    type: list
    elements: dict
  parallel:
    description: With O(items) or O(src), how many writes are sent at once (1 to 32).
    type: int
    default: 8
notes:
  - A no-change run reads and does not write; check mode sends no write and predicts the result.
  - Secure Workload objects carry no tags, so there is no purge; delete objects with O(state=absent).
  - The API has no idempotency key. A create whose answer was lost is looked up before it is sent again. Where the
    product refuses a second object of a name (scopes, agent config profiles and intents, orchestrators), a create
    refused because another run made the object meanwhile is compared with that object; where it does not (policies,
    inventory filters, workspaces), the task reads the objects again after its creates.
  - Should a key exist more than once (two runs at once, or a run cut short), the task keeps the oldest, deletes the
    other copies and lists them in RV(duplicates_removed).
"""

    # The action group of the product's modules (check and diff support: microseg.segmentation.attributes).
    ATTRIBUTES = r"""
attributes:
  action_group:
    description: Use C(group/microseg.segmentation.secure_workload) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - microseg.segmentation.secure_workload
"""
