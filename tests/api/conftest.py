from tests.permission_matrix.conftest import world  # noqa: F401  (the same two-tenant world)
