"""Support code for the Lesson 4 course site.

Chapters import what they need by module, for example::

    from lesson4_support import runtime, datasets, figures
"""

__version__ = "1.0.0"
