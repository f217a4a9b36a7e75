"""Screens for staff: the class teacher's class."""
