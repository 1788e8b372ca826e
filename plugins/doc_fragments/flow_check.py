# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The input every flow-check module takes (plugins/module_utils/_core/flowcheck.py).
    DOCUMENTATION = r"""
options:
  flows:
    description:
      - The flows to evaluate, each from one endpoint to another on one service.
      - Every flow is validated before the first request; the product is then read once (one paginated
        read per kind of object) and every flow is evaluated on what it holds, never on a playbook.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - A name for the flow in the results and the table (for example the row of a guide's flow table).
          - Defaults to C(<source> -> <destination> <service>). Two flows may not have the same name.
        type: str
      source:
        description:
          - Where the flow starts. A string, or a mapping with the keys the module's description lists.
        type: raw
        required: true
      destination:
        description:
          - Where the flow goes, written like O(flows[].source).
        type: raw
        required: true
      service:
        description:
          - V(tcp/<port>), V(udp/<port>), V(icmp), V(icmp/<type>), V(icmp/<type>/<code>) or V(any).
          - A flow on V(any) is allowed only by rules that cover every protocol and port.
        type: str
        default: any
      expect:
        description:
          - The verdict the flow must get. Without it the flow is evaluated and reported, not asserted.
        type: str
        choices: [allow, deny]
  fail_on_mismatch:
    description:
      - Fail the task when a flow's verdict is not O(flows[].expect), naming each such flow and the rules that decided it.
      - With V(false) the task reports the mismatches in RV(mismatches) and succeeds.
    type: bool
    default: true
notes:
  - "In check mode, when what the flows need does not exist yet (a namespace, group, scope or workspace an earlier task
    of the play would create), the flows are not evaluated: the task is skipped with a warning, and returns empty
    RV(flows), RV(mismatches) and RV(table). A real run fails naming what is missing, as before."
"""
