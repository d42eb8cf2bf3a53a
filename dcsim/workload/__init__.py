"""Workloads: utilisation models evaluated for many guests at once, arrivals, and trace readers."""
