"""``python -m dcsim`` is the ``dcsim`` command."""

from dcsim.entry import main

main()
