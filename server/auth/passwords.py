"""Password hashing with argon2id; the cost comes from the configuration."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_dummy = _hasher.hash("mingcha: no such user")


def configure(time_cost: int, memory_kib: int):
    """Set the cost of new hashes. Old hashes carry their own cost and still verify."""
    global _hasher, _dummy
    if (time_cost, memory_kib) != (_hasher.time_cost, _hasher.memory_cost):
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Verified when the username is unknown, so a miss costs as long as a wrong password.
        _dummy = _hasher.hash("mingcha: no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
