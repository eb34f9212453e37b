"""The project's own statement grammars, as data (junos.yml, screenos.yml): which statements the
stand-in emulates, which are inert, which are real but not emulated. Read by harness/model/ledger.py
through importlib.resources, so this folder is a package."""
