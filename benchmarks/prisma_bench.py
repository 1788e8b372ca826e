# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Prisma benchmarks share: the ruleset they declare, the environment the Prisma modules
read their connection from, and a bench whose tasks run in a namespace of the lab's."""

from harness import LabBench


def ruleset(index, port=8080):
    """Ruleset ``rs-<index>``: a subject, two incoming and two outgoing rules (``port`` the first incoming)."""
    return {
        "name": "rs-%04d" % index,
        "subject": [["app=svc-%d" % index, "$identity=processingunit"]],
        "incoming_rules": [
            {"object": [["app=client-%d" % index]], "protocol_ports": ["tcp/%d" % port, "tcp/443"]},
            {"object": [["externalnetwork:name=monitoring"]], "protocol_ports": ["tcp/9100"]},
        ],
        "outgoing_rules": [
            {"object": [["app=db-%d" % index]], "protocol_ports": ["tcp/5432"]},
            {"object": [["externalnetwork:name=dns"]], "protocol_ports": ["udp/53"]},
        ],
    }


def prisma_environment(lab):
    """The variables the Prisma modules read their connection from, for the lab's ``prisma`` entry."""
    return {"PRISMA_API": lab["url"], "PRISMA_TOKEN": lab["token"], "PRISMA_CA_PATH": lab["ca_path"]}


class PrismaBench(LabBench):
    """A Prisma bench over ``count`` objects, its tasks run in namespaces it creates under the lab's."""

    product = "prisma"

    def __init__(self, count):
        super().__init__()
        self.count = count

    def environment(self, lab):
        return prisma_environment(lab)

    def in_namespace(self, label, namespace, tasks, record=True):
        return self.run(label, tasks, record=record, module_defaults={"group/microseg.segmentation.prisma": {"namespace": namespace}})

    def namespace(self, name):
        self.in_namespace("setup", self.lab["namespace"], [{
            "name": "Namespace",
            "microseg.segmentation.prisma_namespace": {"name": name, "type": "Group"},
        }], record=False)
        return "%s/%s" % (self.lab["namespace"], name)
