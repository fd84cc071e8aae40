"""The package list, beside pyproject.toml (which holds everything else); scrapyd-deploy builds
eggs through this file too.

Alembic's script directory is the checkout's top-level migrations/ and ships inside the package
as `scrapersky.migrations`, so an installed copy, a deployed egg and the Docker image can run
`scrapy migrate`. pyproject.toml's package discovery cannot map a directory from outside the
package, hence this file.

Eggs carry bytecode beside their sources. Scrapyd starts every crawl from the egg through
zipimport, which never writes bytecode and reads it only from `module.pyc` next to `module.py`
(not from `__pycache__/`), so an egg of sources alone is compiled again at every run's start:
about 0.17 s of each start, measured. The `.pyc` files are checked against their
source's hash, not its time (a zip stores local times, which differ between the machine that
builds an egg and the node that runs it); a node on another Python sees their magic number
differ and compiles the source as before. Tracebacks name the modules `scrapersky/...`: where
Scrapyd keeps the egg is not known when it is built (zipimport does not rename them).
"""

import compileall
import py_compile

from setuptools import find_namespace_packages, setup
from setuptools.command.bdist_egg import bdist_egg

MIGRATIONS = ["scrapersky.migrations", "scrapersky.migrations.versions"]


class EggWithBytecode(bdist_egg):
    def call_command(self, cmdname, **kw):
        command = super().call_command(cmdname, **kw)
        if cmdname == "install_lib" and not self.dry_run:
            compiled = compileall.compile_dir(
                self.bdist_dir,
                quiet=1,
                # Tracebacks name a module by its place in the package, not the build directory.
                stripdir=self.bdist_dir,
                legacy=True,
                invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
            )
            if not compiled:
                raise SystemExit(f"byte-compiling {self.bdist_dir} failed")
        return command


setup(
    # Excluded from discovery: a scrapersky/migrations/ left over in an older checkout
    # (__pycache__ only) must not shadow the mapped one.
    packages=[
        *find_namespace_packages(include=["scrapersky", "scrapersky.*"], exclude=MIGRATIONS),
        *MIGRATIONS,
    ],
    package_dir={"scrapersky.migrations": "migrations"},
    cmdclass={"bdist_egg": EggWithBytecode},
)
