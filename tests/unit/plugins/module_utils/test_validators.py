# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_core/validators.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import canon_expression
from ansible_collections.microseg.segmentation.plugins.module_utils._core import validators
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError

needs_netaddr = pytest.mark.skipif(not validators.HAS_NETADDR, reason="netaddr is not installed")


def check_error(err, expected_option, fragment):
    assert err.option == expected_option
    assert fragment in err.message, err.message
    assert str(err) == f"{expected_option}: {err.message}"


# ---------------------------------------------------------------------------------------------
# ValidationError


def test_validation_error_shape():
    err = ValidationError("incoming_rules[2].protocol_ports[0]", "something is wrong")
    assert isinstance(err, ValueError)
    assert err.option == "incoming_rules[2].protocol_ports[0]"
    assert err.message == "something is wrong"
    assert str(err) == "incoming_rules[2].protocol_ports[0]: something is wrong"


# ---------------------------------------------------------------------------------------------
# tags


@pytest.mark.parametrize(
    "value, allow_reserved",
    [
        ("app=web", False),
        ("env=prod=eu", False),  # the value may contain '='
        ("k=v with spaces", False),  # the value may contain spaces
        ("externalnetwork:name=internet", False),
        ("$identity=processingunit", True),
        ("@org:tenant=851938053131285504", True),
        ("+reserved=x", True),
        ("k=" + "x" * 1021, False),  # 1023 bytes, just under the limit
    ],
)
def test_validate_tag_accepts(value, allow_reserved):
    assert validators.validate_tag(value, "tags[0]", allow_reserved=allow_reserved) == value


@pytest.mark.parametrize(
    "value, allow_reserved, fragment",
    [
        ("novalue", False, "write it as key=value"),
        ("key=", False, "write it as key=value"),
        ("=value", False, "write it as key=value"),
        ("my key=value", False, "no space or '='"),
        ("", False, "write it as key=value"),
        ("k=" + "x" * 1022, False, "shorter than 1024 bytes"),
        ("k=" + "\u00e9" * 511, False, "shorter than 1024 bytes"),  # 2 + 1022 bytes in UTF-8
        ("@usr:owner=me", False, "reserved"),
        ("$identity=processingunit", False, "reserved"),
        ("+x=y", False, "reserved"),
        (42, False, "a string is expected"),
        (None, True, "a string is expected"),
    ],
)
def test_validate_tag_rejects(value, allow_reserved, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_tag(value, "tags[3]", allow_reserved=allow_reserved)
    check_error(caught.value, "tags[3]", fragment)
    if isinstance(value, str) and value and len(value) < 60:
        assert value in caught.value.message


def test_validate_tags_accepts_and_copies():
    values = ["a=1", "b=2"]
    result = validators.validate_tags(values, "tags")
    assert result == ["a=1", "b=2"]
    assert result is not values
    assert validators.validate_tags(None, "tags") == []
    assert validators.validate_tags(("$name=x",), "tags", allow_reserved=True) == ["$name=x"]


@pytest.mark.parametrize(
    "values, option, fragment",
    [
        (["a=1", "b=2", "a=1"], "tags[2]", "'a=1' is already listed at tags[0]"),
        (["a=1", "bad"], "tags[1]", "'bad' is not a valid tag"),
        (["a=1", "@app:x=y"], "tags[1]", "reserved"),
        ("a=1", "tags", "a list is expected"),
    ],
)
def test_validate_tags_rejects(values, option, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_tags(values, "tags")
    check_error(caught.value, option, fragment)


# ---------------------------------------------------------------------------------------------
# tag expressions


@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        ([["size=big", "color=blue"], ["type=admin"]], {}, [["size=big", "color=blue"], ["type=admin"]]),
        ((("a=1",),), {}, [["a=1"]]),
        (["a=1", ["b=2", "c=3"]], {}, [["a=1"], ["b=2", "c=3"]]),  # plain string = one-tag clause
        ("app=web", {}, [["app=web"]]),  # bare string
        ([["$identity=processingunit", "@org:group=GKE"]], {"strict": True}, [["$identity=processingunit", "@org:group=GKE"]]),
        ([["$namespace=/acct/zone/tenant/*"]], {}, [["$namespace=/acct/zone/tenant/*"]]),
        ([], {}, []),
        (None, {}, []),
        ([[]], {}, [[]]),  # an empty clause is only refused in strict mode
        ([["a=1", "a=1"]], {}, [["a=1", "a=1"]]),  # repeated tag only refused in strict mode
        ([["a=1", "b=2"], ["b=2", "a=1"]], {}, [["a=1", "b=2"], ["b=2", "a=1"]]),
        ([["a=1", "b=2"], ["a=1"]], {"strict": True}, [["a=1", "b=2"], ["a=1"]]),
    ],
)
def test_validate_tag_expression_accepts(value, kwargs, expected):
    assert validators.validate_tag_expression(value, "subject", **kwargs) == expected


@pytest.mark.parametrize(
    "value, kwargs, option, fragment",
    [
        ([], {"allow_empty": False}, "subject", "at least one clause"),
        (None, {"allow_empty": False}, "subject", "at least one clause"),
        ([], {"strict": True}, "subject", "at least one clause"),
        ([["a=1"], []], {"strict": True}, "subject[1]", "the clause is empty"),
        ([["a=1", "b=2", "a=1"]], {"strict": True}, "subject[0][2]", "'a=1' appears twice"),
        ([["a=1", "b=2"], ["c=3"], ["b=2", "a=1"]], {"strict": True}, "subject[2]", "same tags as subject[0]"),
        ([["a=1"], ["a=1"]], {"strict": True}, "subject[1]", "same tags as subject[0]"),
        ([["a=1", "oops"]], {}, "subject[0][1]", "'oops' is not a valid tag"),
        (["a=1", "oops"], {}, "subject[1]", "'oops' is not a valid tag"),
        ([["a=1"], 5], {}, "subject[1]", "not a valid clause"),
        ({"a": "1"}, {}, "subject", "not a valid tag expression"),
        ([[7]], {}, "subject[0][0]", "a string is expected"),
    ],
)
def test_validate_tag_expression_rejects(value, kwargs, option, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_tag_expression(value, "subject", **kwargs)
    check_error(caught.value, option, fragment)


@pytest.mark.parametrize(
    "left, right, equal",
    [
        ([["b=2", "a=1"], ["c=3"]], [["c=3"], ["a=1", "b=2"]], True),
        ([["a=1"]], "a=1", True),
        ([["a=1"]], ["a=1"], True),
        ([], None, True),
        ([["a=1", "b=2"]], [["a=1"], ["b=2"]], False),  # AND is not OR
        ([["a=1"]], [["a=2"]], False),
    ],
)
def test_canon_expression(left, right, equal):
    assert (canon_expression(left) == canon_expression(right)) is equal


def test_canon_expression_shape():
    normalized = canon_expression([["z=1", "b=2"], ["a=0"]])
    assert normalized == (("a=0",), ("b=2", "z=1"))
    assert hash(normalized) is not None
    assert canon_expression(None) == ()


# ---------------------------------------------------------------------------------------------
# protocolPorts


@pytest.mark.parametrize(
    "value, expected",
    [
        ("any", "any"),
        ("ANY", "any"),
        ("tcp/80", "tcp/80"),
        ("TCP/80", "tcp/80"),
        ("udp/53", "udp/53"),
        ("tcp/1:65535", "tcp/1:65535"),
        ("tcp/0", "tcp/0"),
        ("tcp/0:1", "tcp/0:1"),
        ("tcp/080", "tcp/80"),
        ("icmp", "icmp"),
        ("icmp/8", "icmp/8"),
        ("icmp/8/0", "icmp/8/0"),
        ("icmp/3/0,1,3:5", "icmp/3/0,1,3:5"),
        ("icmp/255/255", "icmp/255/255"),
        ("ICMP6", "icmp6"),
        ("icmp6/128/0", "icmp6/128/0"),
        ("IPv6-ICMP/135", "ipv6-icmp/135"),
        ("ipv6-icmp", "ipv6-icmp"),
        ("gre", "gre"),
        ("ESP", "esp"),
        ("ah", "ah"),
        ("sctp", "sctp"),
        ("igmp", "igmp"),
        ("ospfigp", "ospfigp"),
        ("pim", "pim"),
        ("vrrp", "vrrp"),
        ("l2tp", "l2tp"),
    ],
)
def test_validate_protocol_port_accepts(value, expected):
    assert validators.validate_protocol_port(value, "protocol_ports[0]") == expected


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("tcp", "needs a port or a port range"),
        ("UDP", "needs a port or a port range"),
        ("tcp/", "port or a port range is missing"),
        ("tcp/70000", "must be between 0 and 65535"),
        ("udp/1:70000", "must be between 0 and 65535"),
        ("tcp/80:80", "first number must be lower than the second"),
        ("tcp/90:80", "first number must be lower than the second"),
        ("tcp/1:2:3", "one port range"),
        ("tcp/80,443", "is not a number"),
        ("tcp/http", "is not a number"),
        ("tcp/-1", "is not a number"),
        ("icmp/", "ICMP type is missing"),
        ("icmp/300", "ICMP type 300 must be between 0 and 255"),
        ("icmp/1,3", "is not a number"),
        ("icmp/8/", "comma-separated list"),
        ("icmp/8/0,", "comma-separated list"),
        ("icmp/8/256", "ICMP code 256 must be between 0 and 255"),
        ("icmp/3/5:1", "first number must be lower than the second"),
        ("icmp6/", "ICMP type is missing"),
        ("ipv6-icmp/999", "must be between 0 and 255"),
        ("gre/5", "cannot be used with ports"),
        ("esp/1", "cannot be used with ports"),
        ("6", "not its number"),
        ("17/53", "not its number"),
        ("http", "not a known IANA protocol name"),
        ("ipv6-route", "not a known IANA protocol name"),
        ("/80", "protocol name before the '/' is missing"),
        ("", "empty string"),
        (80, "a string is expected"),
    ],
)
def test_validate_protocol_port_rejects(value, fragment):
    option = "incoming_rules[2].protocol_ports[0]"
    with pytest.raises(ValidationError) as caught:
        validators.validate_protocol_port(value, option)
    check_error(caught.value, option, fragment)
    if isinstance(value, str) and value:
        assert f"'{value}'" in caught.value.message


@pytest.mark.parametrize(
    "values, expected",
    [
        (["any"], ["any"]),
        (["Any"], ["any"]),
        (["TCP/443", "udp/53", "icmp/8/0", "gre"], ["tcp/443", "udp/53", "icmp/8/0", "gre"]),
        (["icmp/3/0", "icmp/3/1"], ["icmp/3/0", "icmp/3/1"]),
        ([], []),
        (None, []),
    ],
)
def test_validate_protocol_ports_accepts(values, expected):
    assert validators.validate_protocol_ports(values, "protocol_ports") == expected


@pytest.mark.parametrize(
    "values, option, fragment",
    [
        (["any", "tcp/80"], "protocol_ports[0]", "must be the only entry"),
        (["tcp/80", "ANY"], "protocol_ports[1]", "must be the only entry"),
        (["tcp/80", "TCP/80"], "protocol_ports[1]", "listed twice"),
        (["icmp", "ICMP"], "protocol_ports[1]", "same as entry protocol_ports[0]"),
        (["tcp/80", "tcp/080"], "protocol_ports[1]", "listed twice"),
        (["udp/53", "tcp/70000"], "protocol_ports[1]", "between 0 and 65535"),
        ("tcp/80", "protocol_ports", "a list is expected"),
    ],
)
def test_validate_protocol_ports_rejects(values, option, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_protocol_ports(values, "protocol_ports")
    check_error(caught.value, option, fragment)


# ---------------------------------------------------------------------------------------------
# CIDRs and addresses


@needs_netaddr
@pytest.mark.parametrize(
    "value, expected",
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.0.0.1/24", "10.0.0.1/24"),  # host bits are kept, as the console accepts them
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("192.168.1.7/32", "192.168.1.7/32"),
        ("2001:DB8:0:0::/32", "2001:db8::/32"),
        ("::/0", "::/0"),
        ("fd00::1/128", "fd00::1/128"),
    ],
)
def test_validate_cidr_accepts(value, expected):
    assert validators.validate_cidr(value, "target_networks[0]") == expected


@needs_netaddr
@pytest.mark.parametrize(
    "value, fragment",
    [
        ("10.0.0.300/24", "'10.0.0.300/24' is not a valid CIDR"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not a valid CIDR"),
        ("2001:db8::/129", "is not a valid CIDR"),
        ("10.0.0.1", "prefix length is missing"),
        ("10/8", "is not a valid CIDR"),
        ("10.0.0.0/", "is not a valid CIDR"),
        ("10.0.0.0/+8", "is not a valid CIDR"),
        ("10.0.0.0/255.0.0.0", "is not a valid CIDR"),
        ("example.com/24", "is not a valid CIDR"),
        (" 10.0.0.0/8", "is not a valid CIDR"),
        (None, "a string is expected"),
    ],
)
def test_validate_cidr_rejects(value, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_cidr(value, "target_networks[0]")
    check_error(caught.value, "target_networks[0]", fragment)


@needs_netaddr
@pytest.mark.parametrize(
    "values, kwargs, expected",
    [
        (["10.0.0.0/8", "192.168.0.0/16"], {}, ["10.0.0.0/8", "192.168.0.0/16"]),
        (["10.0.0.0/8", "!10.1.0.0/16"], {"allow_exclusions": True}, ["10.0.0.0/8", "!10.1.0.0/16"]),
        (["!10.1.0.0/16", "10.0.0.0/8"], {"allow_exclusions": True}, ["!10.1.0.0/16", "10.0.0.0/8"]),
        (["2001:DB8::/32", "!2001:db8:1::/48"], {"allow_exclusions": True}, ["2001:db8::/32", "!2001:db8:1::/48"]),
        (["10.0.0.0/8", "10.0.0.0/16"], {}, ["10.0.0.0/8", "10.0.0.0/16"]),  # nested includes are fine
        ([], {}, []),
        (None, {}, []),
    ],
)
def test_validate_cidrs_accepts(values, kwargs, expected):
    assert validators.validate_cidrs(values, "target_networks", **kwargs) == expected


@needs_netaddr
@pytest.mark.parametrize(
    "values, kwargs, option, fragment",
    [
        (["10.0.0.0/8", "!10.1.0.0/16"], {}, "target_networks[1]", "exclusions are not allowed"),
        (["10.0.0.0/8", "!192.168.0.0/16"], {"allow_exclusions": True}, "target_networks[1]", "not inside any included CIDR"),
        (["10.1.0.0/16", "!10.0.0.0/8"], {"allow_exclusions": True}, "target_networks[1]", "'!10.0.0.0/8'"),
        (["!10.1.0.0/16"], {"allow_exclusions": True}, "target_networks[0]", "not inside any included CIDR"),
        (["10.0.0.0/8", "!2001:db8::/32"], {"allow_exclusions": True}, "target_networks[1]", "not inside any included CIDR"),
        (["10.0.0.0/8", "10.0.0.0/8"], {}, "target_networks[1]", "same network as entry target_networks[0]"),
        (["10.0.0.0/8", "10.9.9.9/8"], {}, "target_networks[1]", "same network"),
        (["10.0.0.0/8", "!10.0.0.0/8"], {"allow_exclusions": True}, "target_networks[1]", "same network"),
        (["10.0.0.0/8", "10.0.0.300/24"], {}, "target_networks[1]", "'10.0.0.300/24' is not a valid CIDR"),
        ("10.0.0.0/8", {}, "target_networks", "a list is expected"),
    ],
)
def test_validate_cidrs_rejects(values, kwargs, option, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_cidrs(values, "target_networks", **kwargs)
    check_error(caught.value, option, fragment)


@needs_netaddr
@pytest.mark.parametrize(
    "value, expected",
    [
        ("10.1.2.3", "10.1.2.3"),
        ("2001:DB8::1", "2001:db8::1"),
        ("::1", "::1"),
    ],
)
def test_validate_ip_address_accepts(value, expected):
    assert validators.validate_ip_address(value, "ips[0]") == expected


@needs_netaddr
@pytest.mark.parametrize(
    "value, fragment",
    [
        ("10.1.2.3/32", "without a /prefix-length"),
        ("10.1.2.300", "'10.1.2.300' is not a valid IP address"),
        ("10.1", "is not a valid IP address"),
        ("010.1.2.3", "is not a valid IP address"),
        ("web.example.com", "is not a valid IP address"),
        ("", "is not a valid IP address"),
        (167772161, "a string is expected"),
    ],
)
def test_validate_ip_address_rejects(value, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_ip_address(value, "ips[0]")
    check_error(caught.value, "ips[0]", fragment)


# ---------------------------------------------------------------------------------------------
# external network entries


@needs_netaddr
@pytest.mark.parametrize(
    "value, expected",
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("!10.1.0.0/16", "!10.1.0.0/16"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("10.1.2.3", "10.1.2.3"),
        ("google.com", "google.com"),
        ("*.google.com", "*.google.com"),
        ("api.example.com.", "api.example.com."),
        ("my_host", "my_host"),
        ("Host-1.Example.COM", "Host-1.Example.COM"),
    ],
)
def test_validate_network_entry_accepts(value, expected):
    assert validators.validate_network_entry(value, "entries[0]") == expected


@needs_netaddr
@pytest.mark.parametrize(
    "value, fragment",
    [
        ("10.0.0.300/24", "'10.0.0.300/24' is not a valid CIDR"),
        ("10.0.0.300", "looks like an IPv4 address"),
        ("2001:db8::1", "plain IPv6 address"),
        ("*.*.example.com", "is not a valid network entry"),
        ("foo bar", "is not a valid network entry"),
        ("-bad.example.com", "is not a valid network entry"),
        ("https://example.com", "is not a valid CIDR"),
        ("", "is not a valid network entry"),
        (None, "a string is expected"),
    ],
)
def test_validate_network_entry_rejects(value, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_network_entry(value, "entries[0]")
    check_error(caught.value, "entries[0]", fragment)


@needs_netaddr
def test_validate_network_entries_accepts():
    values = ["10.0.0.0/8", "!10.1.0.0/16", "example.com", "*.example.com", "10.1.2.3", "2001:DB8::/32"]
    assert validators.validate_network_entries(values, "entries") == [
        "10.0.0.0/8",
        "!10.1.0.0/16",
        "example.com",
        "*.example.com",
        "10.1.2.3",
        "2001:db8::/32",
    ]


@needs_netaddr
@pytest.mark.parametrize(
    "values, option, fragment",
    [
        ([], "entries", "is empty"),
        (None, "entries", "is empty"),
        (["10.0.0.0/8", "!192.168.0.0/16"], "entries[1]", "not inside any included CIDR"),
        (["example.com", "!10.1.0.0/16"], "entries[1]", "not inside any included CIDR"),
        (["10.0.0.0/8", "10.0.0.0/8"], "entries[1]", "same network as entry entries[0]"),
        (["example.com", "EXAMPLE.com"], "entries[1]", "already listed at entries[0]"),
        (["10.1.2.3", "10.1.2.3"], "entries[1]", "already listed at entries[0]"),
        (["example.com", "bad entry"], "entries[1]", "'bad entry' is not a valid network entry"),
        ("10.0.0.0/8", "entries", "a list is expected"),
    ],
)
def test_validate_network_entries_rejects(values, option, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_network_entries(values, "entries")
    check_error(caught.value, option, fragment)


# ---------------------------------------------------------------------------------------------
# service host names


@pytest.mark.parametrize(
    "value",
    [
        "web.example.com",
        "web.example.com.",  # one trailing dot is ignored
        "Web-1.Example.com",
        "abc",
        "10.1.2.3",
        "db-",  # the console lets a trailing '-' through
        "NODEA",  # ... and a final upper-case 'A'
    ],
)
def test_validate_hostname_accepts(value):
    assert validators.validate_hostname(value, "hosts[0]") == value


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("ab", "at least 3 characters"),
        ("ab.", "at least 3 characters"),
        ("web.example.COM", "end with a lower-case letter or a digit"),
        ("-web.example.com", "start with a letter or digit"),
        ("web_1.example.com", "use letters, digits, '-' and '.'"),
        ("*.example.com", "is not a valid host name"),
        ("web.example.com..", "is not a valid host name"),
        ("web example.com", "is not a valid host name"),
        (["web.example.com"], "a string is expected"),
    ],
)
def test_validate_hostname_rejects(value, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_hostname(value, "hosts[0]")
    check_error(caught.value, "hosts[0]", fragment)


# ---------------------------------------------------------------------------------------------
# ports


@pytest.mark.parametrize(
    "value, allow_zero, expected",
    [
        (1, False, 1),
        (443, False, 443),
        (65535, False, 65535),
        ("8443", False, 8443),
        (0, True, 0),
        ("0", True, 0),
    ],
)
def test_validate_port_accepts(value, allow_zero, expected):
    assert validators.validate_port(value, "exposed_port", allow_zero=allow_zero) == expected


@pytest.mark.parametrize(
    "value, allow_zero, fragment",
    [
        (0, False, "port 0 is out of range: it must be between 1 and 65535"),
        (65536, False, "port 65536 is out of range"),
        (70000, True, "between 0 and 65535"),
        (-1, True, "port -1 is out of range"),
        ("http", False, "'http' is not a valid port"),
        ("", False, "is not a valid port"),
        (True, False, "True is not a valid port"),
        (80.5, False, "80.5 is not a valid port"),
        (None, False, "None is not a valid port"),
    ],
)
def test_validate_port_rejects(value, allow_zero, fragment):
    with pytest.raises(ValidationError) as caught:
        validators.validate_port(value, "exposed_port", allow_zero=allow_zero)
    check_error(caught.value, "exposed_port", fragment)
