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
      - At least one of O(flows) and O(src) is required; the flows of both are checked together.
    type: list
    elements: dict
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
  src:
    description:
      - Flows read from files on the host the module runs on, as O(flows) entries. Each entry is a YAML or JSON file, a
        directory (every C(.yml), C(.yaml) and C(.json) file below it, in sorted path order, hidden ones left out) or a
        glob (C(**) included, sorted).
      - Each file holds a list of flows, or a mapping of flow name to flow. Every message names the file and the flow,
        as C(flows/web.yml[2].service). A path that matches no file and an empty file fail the task before any request.
      - A relative path is relative to the module's working directory; write C({{ playbook_dir }}/...) for files kept
        next to the playbook. YAML files need PyYAML where the module runs; JSON files need nothing.
    type: list
    elements: path
  fail_on_mismatch:
    description:
      - Fail the task when a flow's verdict is not O(flows[].expect), naming each such flow and the rules that decided it.
      - With V(false) the task reports the mismatches in RV(mismatches) and succeeds.
    type: bool
    default: true
  report:
    description:
      - Write the result as one self-contained HTML page to this path, on the host the module runs on (the
        controller for a local connection), and return the path in RV(report).
      - The page has a header (the product, where the check looked, the time of the check and the summary), a legend,
        one matrix per service with the sources as rows and the destinations as columns, each flow coloured by its
        verdict and marked MISMATCH when it is not O(flows[].expect), the deciding rules on hover, and below it the
        list of every flow with its deciding rules written out.
      - The page has no script and loads nothing (inline CSS, a Content-Security-Policy that forbids the rest);
        every name from the product or the task is escaped.
      - Missing directories are created; the file is replaced atomically (a temporary file beside it, then a rename).
        A relative path is relative to the module's working directory; give an absolute one.
      - The report is written when the flows were evaluated, mismatches included (the task fails after writing
        it), and in check mode too, since the product is only read; a check-mode run that cannot evaluate the flows
        writes a page that says so. Writing it does not count as a change. When the task fails before the flows
        are evaluated, no report is written.
    type: path
notes:
  - "In check mode, when what the flows need does not exist yet (a namespace, group, scope or workspace an earlier task
    of the play would create), the flows are not evaluated: the task is skipped with a warning, and returns empty
    RV(flows), RV(mismatches) and RV(table). A real run fails naming what is missing, as before."
"""
