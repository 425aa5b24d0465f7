"""The browser client lives in ``web/`` at the top of the repository and ships inside the
package as ``bwlive_rtc.web``, so a wheel serves every page. The SFU's compiled fan-out and
receive (bwlive_rtc/sfu/fanout.c, receive.c) are built here by cffi (``cffi_modules``): a C
compiler and Python's headers are needed to install."""
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["bwlive_rtc", "bwlive_rtc.*"]), "bwlive_rtc.web"],
    package_dir={"bwlive_rtc.web": "web"},
    cffi_modules=["bwlive_rtc/sfu/fanout_build.py:ffibuilder"],
    package_data={"bwlive_rtc.web": ["*.html", "*.js", "*.css", "*.json", "*.png", "*.svg", "vendor/**/*", "player/**/*"]},
)
