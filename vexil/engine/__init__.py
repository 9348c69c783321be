"""The evaluation engine: pure Python, imports nothing of Django or the rest of Vexil."""
