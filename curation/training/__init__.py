"""Training backends behind one interface (backend.py), and the factory that picks one."""
