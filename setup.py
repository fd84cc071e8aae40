"""Packaging for `pip install .` and for the egg `scrapyd-deploy` uploads."""

from setuptools import find_packages, setup

setup(
    name="scrapersky",
    version="1.0.0",
    packages=find_packages(include=["scrapersky", "scrapersky.*"]),
    package_data={"scrapersky.metadata": ["*.json"]},
    entry_points={"scrapy": ["settings = scrapersky.settings"]},
    python_requires=">=3.11",
)
