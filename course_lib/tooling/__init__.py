"""The tooling that runs and grades the course (not lesson material).

* :mod:`~course_lib.tooling.runtime` -- ``fast_default``, ``publish_figures`` and the data cache location;
* :mod:`~course_lib.tooling.runner` -- executing notebooks with papermill, baking stored outputs;
* :mod:`~course_lib.tooling.grading` -- nbgrader release, ``course check`` and ``course grade``;
* :mod:`~course_lib.tooling.envreport` -- the environment report;
* :mod:`~course_lib.tooling.cli` -- the ``course`` command.
"""
