"""The package list, beside pyproject.toml (which holds everything else); scrapyd-deploy builds
eggs through this file too.

Alembic's script directory is the checkout's top-level migrations/ and ships inside the package
as `scrapersky.migrations`, so an installed copy, a deployed egg and the Docker image can run
`scrapy migrate`. pyproject.toml's package discovery cannot map a directory from outside the
package, hence this file.
"""

from setuptools import find_namespace_packages, setup

MIGRATIONS = ["scrapersky.migrations", "scrapersky.migrations.versions"]

setup(
    # Excluded from discovery: a scrapersky/migrations/ left over in an older checkout
    # (__pycache__ only) must not shadow the mapped one.
    packages=[
        *find_namespace_packages(include=["scrapersky", "scrapersky.*"], exclude=MIGRATIONS),
        *MIGRATIONS,
    ],
    package_dir={"scrapersky.migrations": "migrations"},
)
