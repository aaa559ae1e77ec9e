"""Tongdao (通道): the command-line entry point and the demo that wire broker, nodes and crypto."""

__version__ = "0.1.0"
