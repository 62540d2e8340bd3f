"""Faker's version keys every pool and table, so reading it without importing Faker must give
exactly the string Faker itself reports: any other string would seed different pools."""

from __future__ import annotations

import subprocess
import sys

from fabula.manifest import library_versions
from fabula.providers.faker_pool import faker_version


def test_the_version_is_fakers_own():
    import faker

    assert faker_version() == faker.VERSION
    assert library_versions()["faker"] == faker.VERSION


def test_person_and_company_parts_from_a_warm_cache_do_not_import_faker(tmp_path):
    code = ("import sys; from fabula.providers.names import company_parts, person_parts; "
            "person_parts('en_US'); company_parts('en_US'); print('faker' in sys.modules)")
    env = {"FABULA_CACHE_DIR": str(tmp_path), "PATH": ""}
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert (cold.stdout.strip(), warm.stdout.strip()) == ("True", "False")
