"""What the tests build, one module per kind of thing, each made the way the product makes it.

- ``people``: organisations, members (factory_boy), secretaries; ``DEFAULT_PASSWORD``.
- ``pages``: the course and policy indexes, courses with their lessons, policy documents.
- ``documents``: Wagtail documents and a DOCX to put in one.
- ``questions``: parsed questions of each type, and questions saved in the bank.
- ``quizzes``: quizzes, right and wrong answers, attempts taken to the end.
- ``study``: lesson progress and assignments.
- ``points``: exact amounts of points through the ledger.
- ``times``: local times in Shanghai, days, minutes from now.
- ``sheets``: question and member import files built in memory.
- ``xlsx_attacks`` and ``import_strategies``: hostile import files, and Hypothesis
  strategies of them, for the importers' bounds and property tests.

Import from the module (``from tests.factories.people import MemberFactory``): this package
re-exports nothing. Fixtures that hand these objects to tests are in the ``conftest.py`` files.
"""
