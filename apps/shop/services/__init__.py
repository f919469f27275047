"""Shop writes, split by subject: buying (`purchase`), granting and reversing (`fulfilment`),
and the per-player limits and stock a purchase reserves (`limits`)."""
