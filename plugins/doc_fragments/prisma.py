# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Connection options of every Prisma Cloud Microsegmentation module.
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - URL of the Microsegmentation Console API, for example C(https://api.east-01.network.prismacloud.io).
      - If not set, the environment variable E(PRISMA_API) (or E(APOCTL_API)) is used, then the
        C(APIURL) of O(app_credential).
    type: str
  namespace:
    description:
      - The namespace the task works in, as an absolute path such as C(/acme/prod). It is sent as the
        C(X-Namespace) header; objects are looked up and created there.
      - For M(microseg.segmentation.prisma_namespace) it is the parent of the namespace managed.
      - If not set, E(PRISMA_NAMESPACE) (or E(APOCTL_NAMESPACE)) is used, then the C(namespace) of O(app_credential).
    type: str
  token:
    description:
      - A bearer token (JWT) for the API.
      - If not set, E(PRISMA_TOKEN) (or E(APOCTL_TOKEN)) is used.
      - One of O(token) and O(app_credential) is required.
    type: str
  app_credential:
    description:
      - Path to an app-credential JSON file (as the console or C(apoctl appcred create) writes it, with
        C(APIURL), C(namespace), C(certificate), C(certificateKey) and C(certificateAuthority)).
      - The module logs in with the certificate (C(POST /issue), realm C(Certificate)) and uses the
        token it gets for the rest of the run. The key is written to a private temporary file for the
        login only and removed right after.
      - If not set, E(PRISMA_APP_CREDENTIAL) (or E(APOCTL_CREDS)) is used.
    type: path
  validate_certs:
    description:
      - Verify the API's TLS certificate. Turn off only for a throwaway test endpoint.
      - If not set, E(PRISMA_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the CA certificates to trust for the API, for a private CA.
      - If not set, E(PRISMA_CA_PATH) is used, then the C(certificateAuthority) of O(app_credential), then the system's trust store.
    type: path
  timeout:
    description:
      - Seconds to wait for each API response. Connection errors and HTTP 429, 502, 503 and 504 are
        retried with exponential backoff, honouring C(Retry-After).
      - If not set, E(PRISMA_TIMEOUT) is used.
    type: int
    default: 30
  retries:
    description:
      - How many times a request that failed on the way is retried (a dropped or refused connection,
        HTTP 429, 502, 503 or 504) before the task fails, with exponential backoff.
      - An endpoint that has not answered once during the task (a wrong address or port, a console that
        is down, a host name that does not resolve) is retried at most twice, half a second apart, so
        the task fails within a few seconds with a message naming the URL. A TCP connection attempt
        waits at most 5 seconds (or O(timeout) if lower).
      - If not set, E(PRISMA_RETRIES) is used.
    type: int
    default: 5
requirements:
  - requests
  - netaddr
notes:
  - "Check mode across tasks: the API answers 403 both for a namespace that does not exist and for one the credentials
    may not see. In check mode only, after a 403 on a read in a namespace, the namespace is looked up from its parent
    (walking up while the parent answers 403 too). When it does not exist (an earlier task of the play would create it),
    every read in it is empty: an object module reports the creates it would make there (and assumes the C(default)
    service dependency policy the product makes with a namespace), C(prisma_info) returns no object, and
    C(prisma_flow_check) is skipped, each with a warning. When it exists, the 403 fails the task. A real run never looks:
    a 403 fails it."
"""

    # The state and list-form options of every Prisma object module.
    OBJECT = r"""
options:
  state:
    description:
      - V(present) creates the object or updates the attributes the task sets; V(absent) deletes it.
      - In the list form it is the default state of every item.
    type: str
    choices: [present, absent]
    default: present
  items:
    description:
      - The list form. Each item takes the object options of this module (V(name) required, and an
        optional per-item V(state)) and is validated exactly like a single-object task.
      - An object option given next to O(items) is the default of every item that does not set it; O(name)
        cannot be given there.
      - All items are checked before any request. The module then reads the namespace once (one
        paginated list call), and sends one write per object that needs one.
    type: list
    elements: dict
  parallel:
    description:
      - With O(items) or O(src), how many writes are sent at once (1 to 32). A write waits for a round trip to the
        console; the writes of a list form overlap theirs. The API documents no limit, and a 429 it answers is retried.
    type: int
    default: 16
notes:
  - Every object the collection creates carries the tag C(managed-by=microseg.segmentation) and an owner tag
    C(managed-owner=<owner>). A task that names an object the collection did not create (such as the
    C(default) service dependency policy of a namespace) updates it without tagging it, unless a list form
    sets O(adopt=true); O(purge=true) only ever deletes tagged objects of its O(owner).
  - A run that changes nothing sends one request (a read); a change adds one write. The list form reads
    the whole namespace once (paginated) whatever the number of items.
  - A create is made once however often it is sent. It carries an C(Idempotency-Key) derived from the object
    (namespace, kind and everything the task sets), which the API keeps with the object it created, so a create
    retried after a lost answer, even across an API restart, and the same create by another run at that moment
    return the one object.
  - Should a name exist more than once where the task looks (two runs declaring it differently at once, or a run of an
    older version cut short), the task keeps the oldest, deletes the other copies the collection manages, writes its
    declaration onto the one kept and lists them in RV(duplicates_removed). A copy the collection does not manage
    fails the task instead.
"""

    # Options every Prisma object module has besides its name.
    COMMON = r"""
options:
  description:
    description: Free text, at most 1024 characters.
    type: str
  tags:
    description:
      - Tags (C(key=value)) of the object, compared without regard to order. Keys may not start with
        C(@), C($) or C(+). The collection adds C(managed-by=microseg.segmentation) and C(managed-owner=<owner>)
        to the objects it creates or adopts.
    type: list
    elements: str
  protected:
    description: Mark the object as protected; the API then refuses changes that do not override the protection.
    type: bool
"""

    PROPAGATE = r"""
options:
  propagate:
    description: Make the object apply in, or be visible from, the child namespaces too.
    type: bool
"""

    DISABLED = r"""
options:
  disabled:
    description: Keep the object but do not apply it.
    type: bool
"""

    FALLBACK = r"""
options:
  fallback:
    description: Apply the object only where no other object of its kind applies.
    type: bool
"""

    # The action group of the product's modules (check and diff support: microseg.segmentation.attributes).
    ATTRIBUTES = r"""
attributes:
  action_group:
    description: Use C(group/microseg.segmentation.prisma) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - microseg.segmentation.prisma
"""
