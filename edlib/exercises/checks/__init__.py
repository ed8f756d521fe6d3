"""Each notebook's exercises: ``nbNN.py`` defines the exercises notebook NN imports (``q1``, ``q2``...)."""
