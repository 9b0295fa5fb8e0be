"""Tests against real services: the tansu broker, redis-server and Milvus Lite."""
