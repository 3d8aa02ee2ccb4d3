"""course_lib: the shared code of *ML for Speech Engineers*.

Import names from the topic modules, e.g.
``from course_lib.tooling.runtime import fast_default, publish_figures``. Importing the
package has no side effects (no seeding, no rcParams, no downloads).
"""
__version__ = "0.1.0"
