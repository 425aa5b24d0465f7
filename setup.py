"""The browser client lives in ``web/`` at the top of the repository and ships inside the
package as ``bwlive_rtc.web``, so a wheel serves every page."""
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["bwlive_rtc", "bwlive_rtc.*"]), "bwlive_rtc.web"],
    package_dir={"bwlive_rtc.web": "web"},
    package_data={"bwlive_rtc.web": ["*.html", "*.js", "*.css", "*.json", "*.png", "*.svg", "vendor/**/*", "player/**/*"]},
)
