"""Recording: forward what no scenario answers to a real upstream, relay its answer to the
client as it arrives, and write it as an ordinary scenario that replays it offline."""
