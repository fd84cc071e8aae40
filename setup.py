"""scrapyd-deploy builds eggs through setup.py; the configuration itself is in pyproject.toml."""

from setuptools import setup

setup()
