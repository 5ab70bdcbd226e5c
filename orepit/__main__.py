from orepit.cli import entry

entry()
