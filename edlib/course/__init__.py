"""The course layer: the shop the notebooks build, and the tools around the notebooks.

``shop``, ``shopdata`` and ``scenarios`` (the shop, its data, ready-made worlds),
``legacy`` and ``refactored`` (the capstone's flow before and after), ``coupling`` and
``testability`` (measures of both), ``fakes`` and ``testrun`` (testing handlers, pytest
from a cell), ``execute`` (the notebook runner behind ``make notebooks``).
"""
