"""How the server process runs Python, set once the application is loaded."""

import gc

# A full (generation 2) collection walks every object the process holds. With
# Django loaded and a few hundred sockets open that is 150,000 to 250,000
# objects, and on a small machine the walk stops the process for 100 to 240 ms:
# every click in flight then reaches the phones that much later
# (docs/performance.md, "Garbage collector pauses").
#
# - Objects alive once the application is loaded (modules, settings, URL
#   patterns, models) live as long as the process: frozen, no collection walks
#   them again. That takes 110,000 objects out of every full collection.
# - A full collection comes after 100 collections of generation 1 instead of
#   10. The young generations are still collected as often as Python's default
#   (700, 10), so cyclic garbage never waits long; only the long walk is rarer.
FULL_COLLECTION_EVERY = 100


def settle_garbage_collector() -> None:
    gen0, gen1, _ = gc.get_threshold()
    gc.set_threshold(gen0, gen1, FULL_COLLECTION_EVERY)
    gc.collect()
    gc.freeze()
