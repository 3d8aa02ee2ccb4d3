"""nbgrader settings for instructors working in this checkout (JupyterLab's
formgrader, `nbgrader` on the command line). `course release` and
`course grade` pass the same layout explicitly and use temporary gradebooks.

solutions/  nbgrader's source: solutions and hidden tests (instructors only)
exercises/  nbgrader's release: what learners get (generated; never edit)
"""
from pathlib import Path

c = get_config()  # noqa: F821  (provided by nbgrader)
here = Path(__file__).resolve().parent
c.CourseDirectory.root = str(here)
c.CourseDirectory.course_id = "ml-speech"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# the gradebook holds hidden tests: keep it in the git-ignored build/ folder
c.CourseDirectory.db_url = f"sqlite:///{here / 'build' / 'gradebook.db'}"
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
