"""Write an offline stand-in for the pip bootstrap script that ``ansible-test`` downloads.

``ansible-test sanity --requirements`` creates a virtual environment per sanity test
without pip, then runs ``get-pip-<version>.py`` fetched from a host this project cannot
reach.  Before downloading, ansible-test looks for
``~/.ansible/test/cache/get_pip_<version with underscores>.py``; this script writes that
file for every pip version the installed ``ansible_test`` asks for.

The stand-in bootstraps pip with the standard library's ``ensurepip``, drops
``PIP_CONFIG_FILE`` (ensurepip points it at /dev/null, which would hide the machine's pip
configuration and CA bundle), then runs ``python -m pip install`` with the arguments it was
given, minus ``--no-setuptools`` and ``--no-wheel`` (get-pip.py options pip does not know).

Usage: python tests/sanity/bootstrap_get_pip.py [--cache-dir DIR] [--pip-version X.Y ...]
Run it with the interpreter that has ansible-core installed (the project's .venv).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys

STAND_IN = '''\
"""Offline stand-in for get-pip.py, written by microseg.segmentation tests/sanity/bootstrap_get_pip.py."""

import os
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")


def main():
    """Bootstrap pip with ensurepip, then install what ansible-test asked for."""
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    env = dict(os.environ)
    # ensurepip runs in a child process: it clears the PIP_* variables and sets
    # PIP_CONFIG_FILE=/dev/null in its own environment only.
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, env=env)
    env.pop("PIP_CONFIG_FILE", None)
    result = subprocess.run([sys.executable, "-m", "pip", "install"] + args, check=False, env=env)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
'''

PIP_VERSION_RE = re.compile(r"""\bpip\s*=\s*['"]([0-9][0-9A-Za-z.]*)['"]""")


def ansible_test_pip_versions() -> list[str]:
    """Return the pip versions named in the installed ansible_test's get_venv_packages()."""
    spec = importlib.util.find_spec('ansible_test')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('ansible_test is not importable by %s: run "make venv" first' % sys.executable)
    source_path = os.path.join(list(spec.submodule_search_locations)[0], '_internal', 'python_requirements.py')
    with open(source_path, encoding='utf-8') as source_file:
        source = source_file.read()
    match = re.search(r'def get_venv_packages\(.*?\n(?=def )', source, re.DOTALL)
    versions = sorted(set(PIP_VERSION_RE.findall(match.group(0) if match else source)))
    if not versions:
        raise SystemExit('no pip version found in %s: ansible-test changed, update %s' % (source_path, __file__))
    return versions


def main() -> None:
    """Write the cached bootstrap script for each pip version."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--cache-dir', default=os.path.expanduser('~/.ansible/test/cache'))
    parser.add_argument('--pip-version', action='append', default=[], help='pip version (default: read from ansible_test)')
    options = parser.parse_args()

    versions = options.pip_version or ansible_test_pip_versions()
    os.makedirs(options.cache_dir, exist_ok=True)
    for version in versions:
        path = os.path.join(options.cache_dir, 'get_pip_%s.py' % version.replace('.', '_'))
        current = None
        if os.path.exists(path):
            with open(path, encoding='utf-8') as existing:
                current = existing.read()
        if current != STAND_IN:
            with open(path, 'w', encoding='utf-8') as out:
                out.write(STAND_IN)
            print('wrote pip %s bootstrap stand-in: %s' % (version, path))
        else:
            print('pip %s bootstrap stand-in is current: %s' % (version, path))


if __name__ == '__main__':
    main()
