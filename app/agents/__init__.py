"""LangGraph and langchain only: the model factory, graph building and tools.

Imports nothing from app.web or the worker, so it can run in any process.
"""
