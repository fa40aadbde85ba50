"""The password hasher for random initial passwords that nobody chose.

An import gives every new member a password of their own, generated at random
(``learning.people.member_import.generate_initial_password``), so that one imported member
cannot log in as a colleague with a password they all share. Hashing each of them with
Django's default PBKDF2 (about half a second of CPU apiece) would make an import of a few
thousand members take minutes, so these passwords are hashed with far fewer iterations.

That is safe because of what is hashed: a random password of about 60 bits, not a word a
person picked, which no number of guesses per second recovers from a stolen hash; slow
hashing exists to protect guessable passwords. And it lasts only until first use: the
member must choose their own password at the first login, and Django re-hashes any
password whose hasher is not the first of ``PASSWORD_HASHERS`` as soon as it is checked
successfully, so no password a person chose is ever stored this way.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class InitialPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 with few iterations, for generated initial passwords only."""

    algorithm = "pbkdf2_sha256_initial"
    iterations = 1_000
