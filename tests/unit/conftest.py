"""Unit tests touch no network: every socket is refused (pytest-socket) while they run."""

from pytest_socket import disable_socket, enable_socket


def pytest_runtest_setup(item):
    disable_socket()


def pytest_runtest_teardown(item):
    enable_socket()
